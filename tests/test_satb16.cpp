// The chorale vocabularies: a hand-written (token, id) table both ways, exact grid round trips,
// the hold rule, and clear errors for bad grids and bad token sequences.
#include <gtest/gtest.h>

#include "bachgen/tokenize/satb16.h"

namespace bachgen::tokenize {
namespace {

using music::ChoraleGrid;
using music::kSilent;

TEST(Satb16, IdTableBothWays) {
  struct Row {
    const char* name;
    int32_t id;
  };
  const std::vector<Row> satb16 = {{"PAD", 0}, {"BOS", 1}, {"EOS", 2}, {"REST", 3},
                                   {"C2", 4},  {"C4", 28}, {"D5", 42}, {"A5", 49}};
  for (const Row& r : satb16) EXPECT_EQ(satb16_token_name(r.id, false), r.name) << r.id;
  EXPECT_EQ(Satb16Vocab::pitch_token(36), 4);
  EXPECT_EQ(Satb16Vocab::pitch_token(60), 28);
  EXPECT_EQ(Satb16Vocab::pitch_token(74), 42);
  EXPECT_EQ(Satb16Vocab::pitch_token(81), 49);
  const std::vector<Row> onset = {{"REST", 3}, {"C2", 4}, {"A5", 49}, {"C2~", 50},
                                  {"C4~", 74}, {"A5~", 95}};
  for (const Row& r : onset) EXPECT_EQ(satb16_token_name(r.id, true), r.name) << r.id;
  EXPECT_EQ(Satb16OnsetVocab::hold_token(60), 74);
  EXPECT_EQ(Satb16OnsetVocab::onset_token(81), 49);
  EXPECT_EQ(satb16_token_name(50, false), "?50");
}

ChoraleGrid example() {
  ChoraleGrid g;
  g.pitches = {{74, 70, 65, 58}, {74, 70, 65, 58}, {72, kSilent, 64, 57}, {72, 69, 64, 57}};
  return g;
}

TEST(Satb16, EncodesStepsAsFourTokensAndRoundTrips) {
  const ChoraleGrid g = example();
  const std::vector<int32_t> expected = {1,  42, 38, 33, 26, 42, 38, 33, 26,
                                         40, 3,  32, 25, 40, 37, 32, 25, 2};
  EXPECT_EQ(encode_satb16(g), expected);
  EXPECT_EQ(decode_satb16(expected), g);
  EXPECT_EQ(encode_satb16(g, {/*bos=*/false, /*eos=*/false}).size(), 16u);
  // PAD anywhere is skipped; everything after EOS is ignored.
  std::vector<int32_t> padded = {0, 0};
  padded.insert(padded.end(), expected.begin(), expected.end());
  padded.insert(padded.end(), {0, 42, 42});
  EXPECT_EQ(decode_satb16(padded), g);
}

TEST(Satb16, OnsetVocabularyKeepsRepeatedNotes) {
  ChoraleGrid g = example();
  // Soprano repeats D5 at step 1 (a new note), alto holds; the alto after its rest starts anew.
  g.onsets = {{true, true, true, true},
              {true, false, false, false},
              {true, false, true, true},
              {false, true, false, false}};
  const std::vector<int32_t> tokens = encode_satb16_onset(g);
  const std::vector<int32_t> expected = {1,  42, 38, 33, 26, 42, 84, 79, 72,
                                         40, 3,  32, 25, 86, 37, 78, 71, 2};
  EXPECT_EQ(tokens, expected);
  int repaired = -1;
  EXPECT_EQ(decode_satb16_onset(tokens, &repaired), g);
  EXPECT_EQ(repaired, 0);
  // Without onset flags, the hold rule decides: equal to the step before = held.
  const ChoraleGrid plain = example();
  const std::vector<int32_t> held = encode_satb16_onset(plain);
  EXPECT_EQ(held[5], Satb16OnsetVocab::hold_token(74));
  EXPECT_EQ(held[9], Satb16OnsetVocab::onset_token(72));
  // A hold that does not continue its pitch is read as an onset and counted.
  EXPECT_EQ(decode_satb16_onset({1, 84, 84, 84, 84, 2}, &repaired).onsets[0][0], true);
  EXPECT_EQ(repaired, 4);
}

TEST(Satb16, RejectsWhatItCannotEncodeOrDecode) {
  ChoraleGrid g = example();
  g.pitches[2][3] = 30;
  try {
    encode_satb16(g);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "step 2, voice 3: pitch 30 is outside the chorale range 36-81");
  }
  EXPECT_THROW(decode_satb16({1, 42, 38, 33, 2}), std::invalid_argument);   // 3 voice tokens
  EXPECT_THROW(decode_satb16({1, 42, 38, 33, 50, 2}), std::invalid_argument);  // id 50
  EXPECT_THROW(decode_satb16({1, 42, 1, 33, 26, 2}), std::invalid_argument);   // BOS inside
  EXPECT_THROW(decode_satb16_onset({1, 42, 38, 33, 96}), std::invalid_argument);
  EXPECT_EQ(decode_satb16({1, 2}).steps(), 0u);
}

}  // namespace
}  // namespace bachgen::tokenize
