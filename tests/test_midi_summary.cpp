// The inspect summary: counts, ranges, duration through tempo changes, and the JSON keys that
// docs/midi.md promises.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bachgen/midi/midi_summary.h"

namespace bachgen::midi {
namespace {

MidiFile satb_like() {
  MidiFile f;
  f.format = 1;
  f.division = Division::ticks_per_quarter(480);
  f.tracks.resize(3);
  f.tracks[0].events = {Event::tempo(0, 500000), Event::time_signature(0, 3, 4),
                        Event::key_signature(0, 2, false), Event::tempo(960, 1000000)};
  f.tracks[1].events = {Event::text_event(0, meta::kTrackName, "Soprano"),
                        Event::note_on(0, 0, 72, 80), Event::note_off(480, 0, 72),
                        Event::note_on(480, 0, 74, 80), Event::note_off(1920, 0, 74)};
  f.tracks[1].end_tick = 1920;
  f.tracks[2].events = {Event::note_on(0, 3, 48, 80), Event::note_off(960, 3, 48),
                        Event::note_off(970, 3, 50)};
  f.tracks[2].end_tick = 970;
  return f;
}

TEST(MidiSummary, CountsTracksNotesAndDuration) {
  const MidiSummary s = summarize_midi(satb_like(), "x.mid", 123, {{5, "a warning"}});
  EXPECT_EQ(s.format, 1);
  EXPECT_EQ(s.notes, 3);
  ASSERT_EQ(s.tracks.size(), 3u);
  EXPECT_EQ(s.tracks[1].name, "Soprano");
  EXPECT_EQ(s.tracks[1].notes, 2);
  EXPECT_EQ(s.tracks[1].lowest_pitch, 72);
  EXPECT_EQ(s.tracks[1].highest_pitch, 74);
  EXPECT_EQ(s.tracks[2].channels, std::vector<int>{3});
  EXPECT_EQ(s.tracks[0].notes, 0);
  EXPECT_EQ(s.tracks[0].lowest_pitch, -1);
  EXPECT_EQ(s.end_tick, 1920);
  // 2 quarters at 120 bpm (1 s), then 2 quarters at 60 bpm (2 s).
  EXPECT_DOUBLE_EQ(s.duration_seconds, 3.0);
  ASSERT_EQ(s.tempos.size(), 2u);
  EXPECT_DOUBLE_EQ(s.tempos[1].seconds, 1.0);
  EXPECT_EQ(s.note_stats.lone_note_offs, 1);
  ASSERT_EQ(s.key_signatures.size(), 1u);
  EXPECT_EQ(s.key_signatures[0].signature.name(), "D major");
}

TEST(MidiSummary, JsonHasTheDocumentedKeys) {
  const MidiSummary s = summarize_midi(satb_like(), "x.mid", 123, {{5, "a warning"}});
  const auto j = nlohmann::json::parse(summary_to_json(s));
  for (const char* key : {"path", "ok", "bytes", "format", "division", "notes", "end_tick",
                          "duration_seconds", "tracks", "tempos", "time_signatures",
                          "key_signatures", "note_pairing", "warnings"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["division"]["ticks_per_quarter"], 480);
  EXPECT_EQ(j["tracks"][1]["name"], "Soprano");
  EXPECT_EQ(j["tracks"][0]["lowest_pitch"], nullptr);
  EXPECT_EQ(j["tempos"][1]["bpm"], 60.0);
  EXPECT_EQ(j["time_signatures"][0]["numerator"], 3);
  EXPECT_EQ(j["key_signatures"][0]["name"], "D major");
  EXPECT_EQ(j["warnings"][0]["offset"], 5);
  EXPECT_EQ(j["note_pairing"]["lone_note_offs"], 1);
  const std::string text = summary_to_text(s);
  EXPECT_NE(text.find("3 notes, 3.000 s"), std::string::npos) << text;
  EXPECT_NE(text.find("warning: byte 5: a warning"), std::string::npos) << text;
}

TEST(MidiSummary, InvalidUtf8InNamesDoesNotBreakJson) {
  MidiFile f;
  f.tracks.emplace_back().events = {Event::meta_event(0, meta::kTrackName, {0xFF, 0xFE, 'a'})};
  const std::string json = summary_to_json(summarize_midi(f, "y.mid", 1, {}));
  EXPECT_TRUE(nlohmann::json::accept(json)) << json;
}

}  // namespace
}  // namespace bachgen::midi
