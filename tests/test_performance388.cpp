// The performance vocabulary: the id table both ways, a hand-computed encoding, long gaps,
// velocity bins, sustain pedal, decoding rules, and MIDI -> tokens -> MIDI on every chorale.
#include <gtest/gtest.h>

#include <cmath>

#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/tokenize/performance388.h"
#include "corpus.h"

namespace bachgen::tokenize {
namespace {

using V = PerformanceVocab;

TEST(Performance388, IdTableBothWays) {
  const std::vector<std::pair<const char*, int32_t>> table = {
      {"ON0", 0},        {"ON60", 60},      {"ON127", 127},  {"OFF0", 128},
      {"OFF60", 188},    {"OFF127", 255},   {"SHIFT10", 256}, {"SHIFT500", 305},
      {"SHIFT1000", 355}, {"VEL1", 356},    {"VEL32", 387},   {"PAD", 388},
      {"BOS", 389},      {"EOS", 390}};
  for (const auto& [name, id] : table) EXPECT_EQ(performance_token_name(id), name) << id;
  EXPECT_EQ(performance_token_name(391), "?391");
  EXPECT_EQ(V::velocity_bin(1), 1);
  EXPECT_EQ(V::velocity_bin(4), 1);
  EXPECT_EQ(V::velocity_bin(5), 2);
  EXPECT_EQ(V::velocity_bin(80), 20);
  EXPECT_EQ(V::velocity_bin(127), 32);
  EXPECT_EQ(V::bin_velocity(20), 77);
  EXPECT_EQ(V::bin_velocity(32), 125);
}

TEST(Performance388, HandComputedEncoding) {
  const std::vector<PerformanceNote> notes = {
      {60, 0.0, 0.5, 80}, {64, 0.0, 1.25, 80}, {60, 0.5, 0.52, 100}};
  const std::vector<int32_t> expected = {389, 375, 60, 64, 305, 188, 380, 60,
                                         257, 188, 328, 192, 390};
  EXPECT_EQ(encode_performance(notes), expected);
  const std::vector<PerformanceNote> decoded = decode_performance(expected);
  const std::vector<PerformanceNote> want = {
      {60, 0.0, 0.5, 77}, {64, 0.0, 1.25, 77}, {60, 0.5, 0.52, 97}};
  EXPECT_EQ(decoded, want);
}

TEST(Performance388, LongGapsShortNotesAndOrderAtOneStep) {
  // 2.5 s of silence is three shifts; a 2 ms note keeps one step; at one step the off of a
  // re-struck pitch comes before its new on.
  const std::vector<PerformanceNote> notes = {{50, 0.0, 0.002, 10}, {50, 2.5, 3.0, 10},
                                              {50, 3.0, 3.1, 10}};
  const std::vector<int32_t> tokens = encode_performance(notes, {false, false});
  const std::vector<int32_t> expected = {V::kVelocity + 2, 50, 256, 178, 355, 355, 304, 50,
                                         305, 178, 50, 265, 178};
  EXPECT_EQ(tokens, expected);
  const auto back = decode_performance(tokens);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_DOUBLE_EQ(back[0].end, 0.01);
  EXPECT_DOUBLE_EQ(back[1].start, 2.5);
  EXPECT_DOUBLE_EQ(back[2].start, 3.0);
}

TEST(Performance388, DecodingRules) {
  PerformanceDecodeStats stats;
  // lone off, an on never ended, PAD/BOS skipped, stop at EOS.
  const auto notes = decode_performance({388, 389, 188, 60, 256, 390, 61}, &stats);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].velocity, 64);
  EXPECT_DOUBLE_EQ(notes[0].end, 0.01);
  EXPECT_EQ(stats.lone_note_offs, 1);
  EXPECT_EQ(stats.unended_notes, 1);
  EXPECT_THROW(decode_performance({400}), std::invalid_argument);
  // Two sounding notes of one pitch: the first off ends the oldest.
  const auto fifo = decode_performance({60, 256, 60, 256, 188, 256, 188});
  ASSERT_EQ(fifo.size(), 2u);
  EXPECT_DOUBLE_EQ(fifo[0].end, 0.02);
  EXPECT_DOUBLE_EQ(fifo[1].end, 0.03);
}

TEST(Performance388, SustainPedalLengthensNotesUntilReleaseOrRestrike) {
  midi::MidiFile f;
  f.format = 0;
  f.division = midi::Division::ticks_per_quarter(480);  // 120 bpm: 960 ticks per second
  midi::Track& t = f.tracks.emplace_back();
  t.events = {midi::Event::control_change(0, 0, 64, 127), midi::Event::note_on(0, 0, 60, 90),
              midi::Event::note_on(0, 0, 62, 90),         midi::Event::note_off(240, 0, 62),
              midi::Event::note_off(480, 0, 60),          midi::Event::note_on(720, 0, 62, 90),
              midi::Event::note_off(960, 0, 62),          midi::Event::control_change(1440, 0, 64, 0),
              midi::Event::note_on(1920, 0, 64, 90),      midi::Event::note_off(2400, 0, 64)};
  t.end_tick = 2400;
  const auto sustained = performance_notes(f);
  const std::vector<PerformanceNote> expected = {
      {60, 0.0, 1.5, 90}, {62, 0.0, 0.75, 90}, {62, 0.75, 1.5, 90}, {64, 2.0, 2.5, 90}};
  EXPECT_EQ(sustained, expected);
  const auto dry = performance_notes(f, {/*sustain=*/false});
  EXPECT_DOUBLE_EQ(dry[0].end, 0.5);
}

TEST(Performance388, EveryChoraleSurvivesMidiToTokensToMidi) {
  BACHGEN_REQUIRE_DATA(dir, "bach-chorales-midi/satb");
  size_t files = 0, notes = 0, overlapped = 0;
  for (const std::string& name : testing::list_files(dir, ".mid")) {
    const std::vector<PerformanceNote> original = performance_notes(midi::read_midi_file(dir + "/" + name));
    const std::vector<int32_t> tokens = encode_performance(original);
    const midi::MidiFile rebuilt = midi::parse_midi(
        midi::encode_midi(performance_to_midi(decode_performance(tokens))), name);
    const std::vector<PerformanceNote> back = performance_notes(rebuilt);
    ASSERT_EQ(back.size(), original.size()) << name;
    // Merged voices can sound one pitch twice at once (a unison that starts or ends apart):
    // pairing cannot tell which off ends which note, so those are counted, not compared.
    std::vector<bool> shared(original.size(), false);
    for (size_t i = 0; i < original.size(); ++i) {
      for (size_t j = i + 1; j < original.size() && original[j].start < original[i].end; ++j) {
        if (original[j].pitch == original[i].pitch) shared[i] = shared[j] = true;
      }
    }
    for (size_t i = 0; i < original.size(); ++i) {
      if (shared[i]) {
        ++overlapped;
        continue;
      }
      const PerformanceNote& a = original[i];
      // back is sorted like original; find a's counterpart by pitch near its start.
      const auto it = std::find_if(back.begin(), back.end(), [&](const PerformanceNote& b) {
        return b.pitch == a.pitch && std::abs(b.start - a.start) <= 0.0051;
      });
      ASSERT_NE(it, back.end()) << name << ": note " << a.pitch << " at " << a.start;
      EXPECT_LE(std::abs(it->end - a.end), 0.0051) << name << ": note " << a.pitch << " at " << a.start;
      EXPECT_EQ(V::velocity_bin(it->velocity), V::velocity_bin(a.velocity)) << name;
      ++notes;
    }
    ++files;
  }
  EXPECT_EQ(files, 373u);
  EXPECT_EQ(notes + overlapped, 102152u);
  std::printf("performance round trip: %zu notes within 10 ms, %zu in same-pitch overlaps\n",
              notes, overlapped);
}

}  // namespace
}  // namespace bachgen::tokenize
