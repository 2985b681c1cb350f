// Score <-> MIDI and Score <-> 16th grid: voices from tracks, the hold rule, snapping, the
// divisi rule, exact round trips, and the figures of the real chorale corpus.
#include <gtest/gtest.h>

#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/music/score.h"
#include "corpus.h"

namespace bachgen::music {
namespace {

TEST(Score, FromMidiTakesVoicesFromNoteTracks) {
  midi::MidiFile f;
  f.division = midi::Division::ticks_per_quarter(96);
  f.tracks.resize(3);
  f.tracks[0].events = {midi::Event::tempo(0, 600000), midi::Event::time_signature(0, 3, 4),
                        midi::Event::key_signature(0, 1, false)};
  f.tracks[1].events = {midi::Event::text_event(0, midi::meta::kTrackName, "Top"),
                        midi::Event::note_on(0, 0, 72, 90), midi::Event::note_off(96, 0, 72)};
  f.tracks[2].events = {midi::Event::note_on(24, 1, 48, 70), midi::Event::note_off(120, 1, 48)};
  f.tracks[2].end_tick = 192;
  const Score s = score_from_midi(f);
  EXPECT_EQ(s.ticks_per_quarter, 96);
  EXPECT_EQ(s.voice_names, (std::vector<std::string>{"Top", "Voice 2"}));
  const std::vector<ScoreNote> expected = {{72, 0, 96, 90, 0}, {48, 24, 96, 70, 1}};
  EXPECT_EQ(s.notes, expected);
  EXPECT_EQ(s.end_tick, 192);
  ASSERT_EQ(s.tempos.size(), 1u);
  EXPECT_EQ(s.time_signatures[0].signature.numerator, 3);
  EXPECT_EQ(s.key_signatures[0].signature.name(), "G major");

  // To MIDI and back: the same score.
  const midi::MidiFile again = midi::parse_midi(midi::encode_midi(score_to_midi(s)), "score");
  ASSERT_EQ(again.tracks.size(), 3u);
  EXPECT_EQ(again.tracks[1].name(), "Top");
  const Score back = score_from_midi(again);
  EXPECT_EQ(back.notes, s.notes);
  EXPECT_EQ(back.end_tick, s.end_tick);
  EXPECT_EQ(back.voice_names, s.voice_names);
}

TEST(Score, ATinyFileClaimingAHugeLengthIsRefusedBeforeAGridIsMade) {
  // Four voices of one note each, then an end of track 2^26 ticks later at 4 ticks a quarter:
  // 2^26 16ths (about 4 million bars) from a file of a few hundred bytes.
  midi::MidiFile f;
  f.division = midi::Division::ticks_per_quarter(4);
  f.tracks.resize(4);
  for (int v = 0; v < 4; ++v) {
    f.tracks[static_cast<size_t>(v)].events = {midi::Event::note_on(0, 0, 72 - 7 * v, 80), midi::Event::note_off(4, 0, 72 - 7 * v)};
  }
  f.tracks[3].end_tick = int64_t{1} << 26;
  const Score score = score_from_midi(midi::parse_midi(midi::encode_midi(f), "huge"));
  try {
    score_to_grid(score);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("at most 160000 16ths (10000 bars)"), std::string::npos) << e.what();
  }
  GridOptions small;
  small.max_steps = 32 * 16;  // the studio's max_bars
  f.tracks[3].end_tick = 40 * 16;
  EXPECT_THROW(score_to_grid(score_from_midi(f), small), std::invalid_argument);
  f.tracks[3].end_tick = 32 * 16;
  EXPECT_EQ(score_to_grid(score_from_midi(f), small).steps(), 512u);
  small.max_notes = 3;
  EXPECT_THROW(score_to_grid(score_from_midi(f), small), std::invalid_argument);  // 4 notes
}

TEST(Score, GridHoldRuleAndOnsets) {
  ChoraleGrid g;
  g.pitches = {{74, 70, 65, kSilent}, {74, 70, 65, kSilent}, {72, 70, 64, 50}, {72, 69, 64, 50}};
  const Score s = grid_to_score(g, 480);
  // Soprano: 74 held 2 steps, 72 held 2; alto 70 x3 then 69; no bass note before step 2.
  const std::vector<ScoreNote> expected = {
      {74, 0, 240, 80, 0}, {70, 0, 360, 80, 1}, {65, 0, 240, 80, 2},  {72, 240, 240, 80, 0},
      {64, 240, 240, 80, 2}, {50, 240, 240, 80, 3}, {69, 360, 120, 80, 1}};
  EXPECT_EQ(s.notes, expected);
  EXPECT_EQ(s.end_tick, 480);
  // With onset flags a repeated pitch is two notes.
  g.onsets = {{true, true, true, false}, {true, false, false, false},
              {true, false, true, true}, {false, true, false, false}};
  const Score repeated = grid_to_score(g, 480);
  EXPECT_EQ(repeated.notes.size(), expected.size() + 1);
  const ChoraleGrid back = score_to_grid(repeated);
  EXPECT_EQ(back, g);
}

TEST(Score, GridSnapsOffGridOnsetsAndKeepsTheOuterLineInDivisi) {
  Score s;
  s.ticks_per_quarter = 480;  // a 16th is 120 ticks
  s.voice_names = satb_voice_names();
  s.notes = {{72, 0, 240, 80, 0},  {76, 120, 120, 80, 0},  // soprano divisi: 76 above 72
             {50, 0, 240, 80, 3},  {45, 120, 120, 80, 3},  // bass divisi: 45 below 50
             {60, 70, 170, 80, 1}};                        // off grid: snaps to step 1..2
  s.end_tick = 240;
  GridStats stats;
  const ChoraleGrid g = score_to_grid(s, {}, &stats);
  ASSERT_EQ(g.steps(), 2u);
  EXPECT_EQ(g.pitches[0], (GridStep{72, kSilent, kSilent, 50}));
  EXPECT_EQ(g.pitches[1], (GridStep{76, 60, kSilent, 45}));
  EXPECT_TRUE(g.onsets[1][0]);
  EXPECT_TRUE(g.onsets[1][1]);
  EXPECT_EQ(stats.off_grid_onsets, 1);
  EXPECT_EQ(stats.divisi_steps, 2);
  s.ticks_per_quarter = 90;
  EXPECT_THROW(score_to_grid(s), std::invalid_argument);
}

TEST(Score, ChoraleMidiFilesOnTheGrid) {
  BACHGEN_REQUIRE_DATA(dir, "bach-chorales-midi/satb");
  GridStats total;
  int chord_files = 0;  // a voice sounds two notes at once (true divisi)
  int divisi_files = 0; // the grid had to drop a note somewhere (divisi, or snapping overlap)
  for (const std::string& name : testing::list_files(dir, ".mid")) {
    const Score s = score_from_midi(midi::read_midi_file(dir + "/" + name));
    ASSERT_EQ(s.voices(), 4) << name;
    GridStats stats;
    const ChoraleGrid g = score_to_grid(s, {}, &stats);
    total.off_grid_onsets += stats.off_grid_onsets;
    total.notes += stats.notes;
    divisi_files += stats.divisi_steps > 0;
    bool chord = false;
    for (size_t i = 0; i < s.notes.size(); ++i) {
      for (size_t j = i + 1; j < s.notes.size() && s.notes[j].onset < s.notes[i].onset + s.notes[i].duration; ++j) {
        chord |= s.notes[j].voice == s.notes[i].voice;
      }
    }
    chord_files += chord;
    // grid -> score -> MIDI -> score -> grid is exact.
    const Score rebuilt = grid_to_score(g, 480);
    const midi::MidiFile file = midi::parse_midi(midi::encode_midi(score_to_midi(rebuilt)), name);
    EXPECT_EQ(score_to_grid(score_from_midi(file)), g) << name;
  }
  EXPECT_EQ(total.notes, 102152);
  EXPECT_EQ(total.off_grid_onsets, 6);  // shared/data/README.md: 6 onsets on a 32nd
  EXPECT_EQ(chord_files, 10);           // and 10 files with a short divisi
  EXPECT_GE(divisi_files, chord_files);
}

}  // namespace
}  // namespace bachgen::music
