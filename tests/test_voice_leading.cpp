// Voice-leading rules and style statistics on hand-made examples with hand-counted results.
#include "bachgen/music/voice_leading.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "bachgen/midi/midi_writer.h"
#include "bachgen/music/score.h"
#include "bachgen/commands/analyze_command.h"
#include "bachgen/music/style_report.h"
#include "corpus.h"

namespace bachgen::music {
namespace {

TEST(VoiceLeading, ParallelsModuloTheOctave) {
  EXPECT_EQ(parallel_kind(67, 69, 60, 62), 5);   // fifth -> fifth, both up
  EXPECT_EQ(parallel_kind(67, 62, 60, 55), 5);   // both down
  EXPECT_EQ(parallel_kind(67, 81, 60, 62), 5);   // fifth -> twelfth counts
  EXPECT_EQ(parallel_kind(72, 74, 60, 62), 8);   // octaves
  EXPECT_EQ(parallel_kind(60, 62, 60, 62), 8);   // unisons
  EXPECT_EQ(parallel_kind(67, 65, 60, 62), 0);   // contrary motion
  EXPECT_EQ(parallel_kind(67, 67, 60, 62), 0);   // oblique
  EXPECT_EQ(parallel_kind(65, 67, 60, 62), 0);   // parallel fourths: not a rule here
  EXPECT_EQ(parallel_kind(64, 67, 57, 60), 5);   // 7 -> 7
  EXPECT_EQ(parallel_kind(64, 69, 60, 62), 0);   // a third to a seventh
}

TEST(VoiceLeading, RulesForTheNextPitch) {
  const GridStep previous{72, 65, 60, 48};
  GridStep current{74, kSilent, kSilent, kSilent};
  EXPECT_TRUE(breaks_voice_leading(1, 67, previous, current));   // S-A 72/65 -> 74/67: fifths
  EXPECT_FALSE(breaks_voice_leading(1, 64, previous, current));  // contrary motion
  EXPECT_TRUE(breaks_voice_leading(1, 75, previous, current));   // above the soprano
  EXPECT_TRUE(breaks_voice_leading(1, 51, previous, current));   // a leap of 14
  current = {74, 64, kSilent, kSilent};
  EXPECT_TRUE(breaks_voice_leading(2, 62, previous, current));   // S-T 72/60 -> 74/62: octaves
  EXPECT_FALSE(breaks_voice_leading(2, 58, previous, current));
  current = {74, 64, 58, kSilent};
  EXPECT_TRUE(breaks_voice_leading(3, 50, previous, current));   // S-B 72/48 -> 74/50: octaves (24)
  EXPECT_TRUE(breaks_voice_leading(3, 46, previous, current));   // T-B 60/48 -> 58/46: octaves
  EXPECT_FALSE(breaks_voice_leading(3, 45, previous, current));
  // Nothing known before: only the crossing rule applies.
  const GridStep none{kSilent, kSilent, kSilent, kSilent};
  EXPECT_FALSE(breaks_voice_leading(0, 81, none, none));
  EXPECT_TRUE(breaks_voice_leading(1, 80, none, GridStep{79, kSilent, kSilent, kSilent}));
}

TEST(StyleStats, HandCountedExample) {
  ChoraleGrid g;
  g.pitches = {{72, 67, 64, 48}, {74, 69, 65, 50}, {74, 69, 65, 50}, {71, 76, 65, 50}, {71, 76, 50, 36}};
  const StyleStats s = analyze_grid(g);
  EXPECT_EQ(s.sonorities, 4);      // the held step 2 is not one
  EXPECT_EQ(s.pair_moves, 8);      // 6 + S-A + T-B
  EXPECT_EQ(s.parallel_fifths, 1);  // A-B 67/48 -> 69/50
  EXPECT_EQ(s.parallel_octaves, 1);  // S-B 72/48 -> 74/50
  EXPECT_EQ(s.crossings, 2);       // A above S at steps 3 and 4
  EXPECT_EQ(s.notes, 12);
  EXPECT_EQ(s.out_of_range, 1);    // alto 76 > 74
  EXPECT_EQ(s.wide_spacing, 1);    // A-T 76/50 at step 4
  EXPECT_DOUBLE_EQ(s.fifths_per_100_moves(), 12.5);
  EXPECT_DOUBLE_EQ(s.crossings_per_100_sonorities(), 50.0);
  EXPECT_NEAR(s.out_of_range_per_100_notes(), 100.0 / 12, 1e-12);
  // Sounding steps per pitch class: C 3, D 6, E 3, F 3, G 1, A 2, B 2 (of 20).
  double h = 0;
  for (double c : {3.0, 6.0, 3.0, 3.0, 1.0, 2.0, 2.0}) h -= c / 20 * std::log2(c / 20);
  EXPECT_NEAR(s.pitch_class_entropy(), h, 1e-12);
  StyleStats twice = s;
  twice.add(s);
  EXPECT_EQ(twice.pair_moves, 16);
  EXPECT_DOUBLE_EQ(twice.fifths_per_100_moves(), 12.5);
  EXPECT_EQ(StyleStats{}.fifths_per_100_moves(), 0.0);
}

TEST(StyleReport, FilesAgainstBachAndClearErrors) {
  // Bach's JSB test chorales: few parallels, as a composer of his school would write.
  BACHGEN_REQUIRE_DATA(jsb_dir, "jsb-chorales");
  const std::string jsb = jsb_dir + "/Jsb16thSeparated.json";
  {
    commands::AnalyzeSettings s;
    s.reference = jsb + ":test";
    // A file made of the hand-counted example.
    ChoraleGrid g;
    g.pitches = {{72, 67, 64, 48}, {74, 69, 65, 50}, {74, 69, 65, 50}, {71, 76, 65, 50}, {71, 76, 50, 36}};
    const std::string path = std::string(BACHGEN_TEST_TMP) + "/example.mid";
    midi::write_midi_file(path, score_to_midi(grid_to_score(g)));
    s.inputs = {path};
    s.json = true;
    const nlohmann::json j = nlohmann::json::parse(commands::analyze_report(s));
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0]["parallel_fifths"], 1);
    EXPECT_EQ(j[0]["voice_pair_moves"], 8);
    EXPECT_EQ(j[1]["name"], "Bach (JSB test)");
    EXPECT_LT(j[1]["parallel_fifths_per_100_moves"].get<double>(), 1.0);
    EXPECT_GT(j[1]["voice_pair_moves"].get<int64_t>(), 1000);
    s.json = false;
    EXPECT_NE(commands::analyze_report(s).find("Bach (JSB test)"), std::string::npos);
  }
  commands::AnalyzeSettings bad;
  bad.inputs = {"/no/such/file.mid"};
  try {
    commands::analyze_report(bad);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/no/such/file.mid", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace bachgen::music
