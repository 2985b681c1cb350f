// The musician's figures (music/chorale_figures.h) on hand-made grids, each count worked out by
// hand; and Bach's own JSB test chorales inside the bands issue 18 sets for our music.
#include "bachgen/music/chorale_figures.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bachgen/commands/analyze_command.h"
#include "bachgen/music/key.h"
#include "corpus.h"

namespace bachgen::music {
namespace {

unsigned pcs(std::initializer_list<int> pitch_classes) {
  unsigned mask = 0;
  for (int pc : pitch_classes) mask |= 1u << pc;
  return mask;
}

// Rows of (S, A, T, B), one per 16th.
ChoraleGrid grid_of(std::initializer_list<GridStep> rows) {
  ChoraleGrid g;
  g.pitches.assign(rows.begin(), rows.end());
  return g;
}

TEST(ChoraleFigures, ChordsThatFit) {
  EXPECT_TRUE(fits_one_chord(pcs({0, 4, 7})));         // C major
  EXPECT_TRUE(fits_one_chord(pcs({2, 5, 9})));         // D minor
  EXPECT_TRUE(fits_one_chord(pcs({11, 2, 5})));        // B diminished
  EXPECT_TRUE(fits_one_chord(pcs({0, 4, 8})));         // augmented
  EXPECT_TRUE(fits_one_chord(pcs({7, 11, 2, 5})));     // G7
  EXPECT_TRUE(fits_one_chord(pcs({0, 4, 7, 11})));     // C major 7
  EXPECT_TRUE(fits_one_chord(pcs({2, 5, 9, 0})));      // D minor 7
  EXPECT_TRUE(fits_one_chord(pcs({11, 2, 5, 9})));     // B half-diminished
  EXPECT_TRUE(fits_one_chord(pcs({11, 2, 5, 8})));     // B diminished 7
  EXPECT_TRUE(fits_one_chord(pcs({2, 7})));            // a fifth: part of many
  EXPECT_TRUE(fits_one_chord(pcs({})));
  EXPECT_FALSE(fits_one_chord(pcs({0, 2, 4})));        // C D E
  EXPECT_FALSE(fits_one_chord(pcs({2, 5, 7, 9})));     // D F G A
  EXPECT_FALSE(fits_one_chord(pcs({0, 1, 2})));
  EXPECT_FALSE(fits_one_chord(pcs({0, 4, 7, 9, 11})));
}

TEST(ChoraleFigures, ScalesOfMajorAndMinorKeys) {
  const KeyGuess c_major = parse_key("C major"), a_minor = parse_key("A minor");
  for (int p : {60, 62, 64, 65, 67, 69, 71, 72}) EXPECT_TRUE(in_key_scale(p, c_major)) << p;
  for (int p : {61, 63, 66, 68, 70}) EXPECT_FALSE(in_key_scale(p, c_major)) << p;
  // A minor: A B C D E F G, and F# G# (the raised 6th and 7th).
  for (int p : {57, 59, 60, 62, 64, 65, 66, 67, 68}) EXPECT_TRUE(in_key_scale(p, a_minor)) << p;
  for (int p : {58, 61, 63}) EXPECT_FALSE(in_key_scale(p, a_minor)) << p;
}

TEST(ChoraleFigures, TheLastChord) {
  const KeyGuess c_major = parse_key("C major"), a_minor = parse_key("A minor");
  EXPECT_TRUE(ends_on_tonic(grid_of({{67, 64, 55, 48}, {72, 67, 64, 48}}), c_major));
  EXPECT_TRUE(ends_on_tonic(grid_of({{72, 67, 60, 48}}), c_major));               // no third
  EXPECT_TRUE(ends_on_tonic(grid_of({{72, 64, 60, 48}, {kSilent, kSilent, kSilent, kSilent}}), c_major));  // rests after
  EXPECT_FALSE(ends_on_tonic(grid_of({{72, 67, 60, 52}}), c_major));              // E in the bass
  EXPECT_FALSE(ends_on_tonic(grid_of({{72, 67, 63, 48}}), c_major));              // C minor in C major
  EXPECT_FALSE(ends_on_tonic(grid_of({{74, 67, 59, 43}}), c_major));              // a half close
  EXPECT_FALSE(ends_on_tonic(grid_of({{72, 67, 64, kSilent}}), c_major));         // no bass
  EXPECT_TRUE(ends_on_tonic(grid_of({{69, 64, 60, 45}}), a_minor));               // A C E
  EXPECT_TRUE(ends_on_tonic(grid_of({{69, 64, 61, 45}}), a_minor));               // the Picardy third
  EXPECT_FALSE(ends_on_tonic(grid_of({{69, 64, 61, 60}, {69, 64, 61, 45}, {69, 65, 60, 45}}), a_minor));  // A C F
  EXPECT_FALSE(ends_on_tonic(grid_of({}), c_major));
}

// 12 steps in C major:            0-3        4        5-7       8-11
//   S                             C5 72      D5 74    D5        C5 72
//   A                             G4 67      F4 65    G4 67     G4 (held on)
//   T                             E4 64      D4 62    D4        E4 64
//   B                             C3 48      G2 43    G2        C3 48
TEST(ChoraleFigures, AHandCountedPhrase) {
  std::vector<GridStep> rows;
  for (int t = 0; t < 12; ++t) {
    if (t < 4) rows.push_back({72, 67, 64, 48});
    else if (t == 4) rows.push_back({74, 65, 62, 43});
    else if (t < 8) rows.push_back({74, 67, 62, 43});
    else rows.push_back({72, 67, 64, 48});
  }
  ChoraleGrid g;
  g.pitches = rows;
  ASSERT_EQ(guess_key(g).name(), "C major");
  const ChoraleFigures f = chorale_figures(g);
  EXPECT_EQ(f.pieces, 1);
  EXPECT_EQ(f.onsets, 12);          // S 0 4 8, A 0 4 5 (G at 8 is held), T 0 4 8, B 0 4 8
  EXPECT_EQ(f.odd_step_onsets, 1);  // the alto at step 5
  EXPECT_EQ(f.scale_onsets, 12);
  EXPECT_EQ(f.beats, 3);            // steps 0, 4, 8
  EXPECT_EQ(f.chord_beats, 3);      // C, D F G = G7 without B, C
  EXPECT_EQ(f.tonic_endings, 1);
  EXPECT_EQ(f.lower_onsets, 9);
  EXPECT_DOUBLE_EQ(f.lower_onsets_per_quarter(), 1.0);  // 9 onsets / (3 voices x 3 quarters)
  EXPECT_EQ(f.inner_moves, 4);      // A 67-65-67, T 64-62-64
  EXPECT_EQ(f.inner_semitones, 8);
  EXPECT_EQ(f.inner_leaps, 0);
  EXPECT_NEAR(f.odd_step_onsets_percent(), 100.0 / 12, 1e-9);

  // The tenor leaps to A3 and back, the alto's step 5 becomes F#4: the beat at step 4 (D F A G)
  // fits no chord, one note leaves the scale, two moves are leaps.
  for (int t = 4; t < 8; ++t) g.pitches[static_cast<size_t>(t)][2] = 57;
  g.pitches[5][1] = 66;
  const ChoraleFigures h = chorale_figures(g);
  EXPECT_EQ(h.onsets, 13);          // the alto's F#4 at 5 and G4 at 6 are both onsets now
  EXPECT_EQ(h.scale_onsets, 12);
  EXPECT_EQ(h.chord_beats, 2);
  EXPECT_EQ(h.inner_moves, 5);      // A 67-65-66-67, T 64-57-64
  EXPECT_EQ(h.inner_semitones, 2 + 1 + 1 + 7 + 7);
  EXPECT_EQ(h.inner_leaps, 2);

  ChoraleFigures both = f;
  both.add(h);
  EXPECT_EQ(both.pieces, 2);
  EXPECT_EQ(both.onsets, 25);
  EXPECT_DOUBLE_EQ(both.tonic_endings_percent(), 100.0);
}

// Bach's own JSB test chorales, through `analyze` with a JSB input: inside every band issue 18
// sets for our compositions (which is what makes the bands fair), and the figures
// docs/generation.md gives for them.
TEST(ChoraleFigures, BachsTestChoralesAreInsideTheBands) {
  BACHGEN_REQUIRE_DATA(jsb_dir, "jsb-chorales");
  commands::AnalyzeSettings s;
  s.inputs = {"test"};
  s.jsb_file = jsb_dir + "/Jsb16thSeparated.json";
  s.json = true;
  const nlohmann::json j = nlohmann::json::parse(commands::analyze_report(s));
  ASSERT_EQ(j.size(), 1u);
  const nlohmann::json& bach = j[0];
  EXPECT_EQ(bach["name"], "test");
  EXPECT_EQ(bach["pieces"], 77);
  EXPECT_NEAR(bach["odd_step_onsets_percent"].get<double>(), 1.8, 0.05);
  EXPECT_NEAR(bach["scale_notes_percent"].get<double>(), 94.8, 0.05);
  EXPECT_EQ(bach["tonic_endings"], 60);  // 77.9 %
  EXPECT_NEAR(bach["chord_beats_percent"].get<double>(), 90.9, 0.05);
  EXPECT_NEAR(bach["lower_onsets_per_quarter"].get<double>(), 0.97, 0.005);
  EXPECT_NEAR(bach["inner_mean_interval_semitones"].get<double>(), 2.32, 0.005);
  EXPECT_NEAR(bach["inner_leaps_percent"].get<double>(), 12.2, 0.05);
  EXPECT_LE(bach["odd_step_onsets_percent"].get<double>(), 4.0);
  EXPECT_GE(bach["scale_notes_percent"].get<double>(), 90.0);
  EXPECT_GE(bach["tonic_endings_percent"].get<double>(), 70.0);
  EXPECT_GE(bach["chord_beats_percent"].get<double>(), 85.0);
  // A piece, and an index past the split's end: named in the error.
  s.inputs = {"test:3"};
  EXPECT_EQ(nlohmann::json::parse(commands::analyze_report(s))[0]["pieces"], 1);
  s.inputs = {"test:999"};
  EXPECT_THROW(commands::analyze_report(s), std::runtime_error);
}

TEST(ChoraleFigures, AgreementWithAReferenceByHand) {
  // Beats at steps 0 and 4 (step 2 is between beats and does not count).
  const ChoraleGrid ours = grid_of({{72, 67, 64, 48}, {72, 67, 64, 48}, {74, 67, 62, 43}, {74, 67, 62, 43},
                                    {72, 67, 64, 55}, {72, 67, 64, 55}});
  const ChoraleGrid bach = grid_of({{72, 64, 55, 60}, {72, 64, 55, 60}, {71, 62, 55, 55}, {71, 62, 55, 55},
                                    {72, 65, 57, 53}, {72, 65, 57, 53}});
  const Agreement a = agreement_with(ours, bach);
  EXPECT_EQ(a.bass_beats, 2);
  EXPECT_EQ(a.same_bass, 1);       // C under both at step 0; G against F at step 4
  EXPECT_EQ(a.chord_beats, 2);
  EXPECT_EQ(a.same_chord, 1);      // C E G both at step 0; C E G against F A C at step 4
  EXPECT_DOUBLE_EQ(a.bass_percent(), 50.0);
  // A silent bass is no bass beat; the chord still counts.
  ChoraleGrid quiet = ours;
  quiet.pitches[4][3] = kSilent;
  EXPECT_EQ(agreement_with(quiet, bach).bass_beats, 1);
  EXPECT_EQ(agreement_with(quiet, bach).chord_beats, 2);
}

TEST(ChoraleFigures, AnalyzeComparesEachPieceWithAReferencePiece) {
  BACHGEN_REQUIRE_DATA(jsb_dir, "jsb-chorales");
  commands::AnalyzeSettings s;
  s.inputs = {"test:3", "test:4"};
  s.jsb_file = jsb_dir + "/Jsb16thSeparated.json";
  s.reference = "test:3";
  s.json = true;
  const nlohmann::json j = nlohmann::json::parse(commands::analyze_report(s));
  ASSERT_EQ(j.size(), 4u);  // two pieces, all inputs, the reference
  EXPECT_DOUBLE_EQ(j[0]["reference_bass_percent"].get<double>(), 100.0);  // the piece itself
  EXPECT_DOUBLE_EQ(j[0]["reference_chord_percent"].get<double>(), 100.0);
  EXPECT_LT(j[1]["reference_bass_percent"].get<double>(), 60.0);        // another chorale
  EXPECT_TRUE(j[2].contains("reference_bass_beats"));
  EXPECT_EQ(j[3]["name"], "Bach (JSB test:3)");
  EXPECT_FALSE(j[3].contains("reference_bass_percent"));
  // A split as the reference: the Bach column only, no comparison.
  s.reference = "test";
  EXPECT_FALSE(nlohmann::json::parse(commands::analyze_report(s))[0].contains("reference_bass_percent"));
  s.reference = "test:999";
  EXPECT_THROW(commands::analyze_report(s), std::runtime_error);
  // The table says what it compared.
  s.reference = "test:3";
  s.json = false;
  EXPECT_NE(commands::analyze_report(s).find("against the reference"), std::string::npos);
}

TEST(ChoraleFigures, SilenceIsNoPiece) {
  const ChoraleFigures f = chorale_figures(grid_of({{kSilent, kSilent, kSilent, kSilent}}));
  EXPECT_EQ(f.pieces, 0);
  EXPECT_EQ(f.onsets, 0);
  EXPECT_DOUBLE_EQ(f.odd_step_onsets_percent(), 0.0);
}

}  // namespace
}  // namespace bachgen::music
