// The Chorale value's renderings: MIDI bytes that read back as the grid (with the meter, the
// pickup's lead rests and the tempo), the MusicXML writer's document, and the notes JSON the
// studio draws, checked against hand-made tables.
#include "bachgen/render/chorale_render.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/score.h"
#include "bachgen/render/musicxml.h"

namespace bachgen::render {
namespace {

music::Chorale waltz() {
  music::Chorale c;
  for (int t = 0; t < 28; ++t) c.grid.pitches.push_back({static_cast<int8_t>(72 + t / 4 % 3), 67, 64, 48});
  c.steps_per_bar = 12;
  c.pickup_steps = 4;
  c.tempo = 96;
  return c;
}

TEST(ChoraleRender, MidiReadsBackAsTheWrittenGridWithMeterAndTempo) {
  const music::Chorale c = waltz();
  EXPECT_EQ(c.lead_rests(), 8);
  EXPECT_EQ(c.bars(), 3);  // 8 rests + 28 steps = 36 = 3 bars of 3/4
  const std::string bytes = chorale_midi(c);
  const music::Score score = music::score_from_midi(midi::parse_midi(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "waltz"));
  ASSERT_EQ(score.voices(), 4);
  ASSERT_EQ(score.time_signatures.size(), 1u);
  EXPECT_EQ(score.time_signatures[0].signature.numerator, 3);
  EXPECT_EQ(score.time_signatures[0].signature.denominator, 4);
  ASSERT_FALSE(score.tempos.empty());
  EXPECT_EQ(score.tempos[0].us_per_quarter, static_cast<uint32_t>(60e6 / 96));
  const music::ChoraleGrid back = music::score_to_grid(score);
  const music::ChoraleGrid written = c.written_grid();
  ASSERT_EQ(written.steps(), 36u);
  ASSERT_EQ(back.steps(), written.steps());
  EXPECT_EQ(back.pitches, written.pitches);
}

TEST(ChoraleRender, MusicXmlIsTheWritersDocumentOfTheChorale) {
  const music::Chorale c = waltz();
  const std::string x = chorale_musicxml(c, "waltz");
  EXPECT_EQ(x, to_musicxml(c, "waltz"));
  EXPECT_NE(x.find("<measure number=\"0\" implicit=\"yes\">"), std::string::npos);  // its pickup
  EXPECT_NE(x.find("<beats>3</beats><beat-type>4</beat-type>"), std::string::npos);
  EXPECT_NE(x.find("<per-minute>96</per-minute>"), std::string::npos);
}

TEST(ChoraleRender, NotesJsonListsEachNoteOnceWithItsLength) {
  // Soprano: C5 for 2 steps, then E5 held 2 steps (no onset flags: the JSB hold rule); alto
  // silent then A4; tenor and bass one long note each. One lead rest, 4 steps per bar.
  music::ChoraleGrid grid;
  grid.pitches = {{72, -1, 60, 48}, {72, 69, 60, 48}, {76, 69, 60, 48}, {76, 69, 60, 48}};
  music::Chorale c;
  c.grid = grid;
  c.steps_per_bar = 4;
  c.pickup_steps = 3;  // one lead rest
  c.tempo = 90;
  const nlohmann::json j = nlohmann::json::parse(chorale_notes_json(c));
  EXPECT_EQ(j["steps_per_bar"], 4);
  EXPECT_EQ(j["tempo"], 90.0);
  EXPECT_EQ(j["steps"], 5);
  EXPECT_EQ(j["bars"], 2);
  EXPECT_EQ(j["voices"], nlohmann::json({"S", "A", "T", "B"}));
  const nlohmann::json expected = {{0, 1, 2, 72, "C5"}, {0, 3, 2, 76, "E5"}, {1, 2, 3, 69, "A4"}, {2, 1, 4, 60, "C4"}, {3, 1, 4, 48, "C3"}};
  EXPECT_EQ(j["notes"], expected);
  // With onset flags a repeated pitch is two notes.
  grid.onsets = {{true, false, true, true}, {true, true, false, false}, {true, false, false, false}, {false, false, false, false}};
  c.grid = grid;
  c.pickup_steps = 0;
  c.tempo = 80;
  const nlohmann::json k = nlohmann::json::parse(chorale_notes_json(c));
  const nlohmann::json with_onsets = {{0, 0, 1, 72, "C5"}, {0, 1, 1, 72, "C5"}, {0, 2, 2, 76, "E5"}, {1, 1, 3, 69, "A4"}, {2, 0, 4, 60, "C4"}, {3, 0, 4, 48, "C3"}};
  EXPECT_EQ(k["notes"], with_onsets);
}

}  // namespace
}  // namespace bachgen::render
