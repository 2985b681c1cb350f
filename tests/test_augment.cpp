// Augmentation: allowed chorale shifts from voice ranges, token transposition for both
// vocabularies, and time-stretch of performance tokens, all hand-computed.
#include <gtest/gtest.h>

#include "bachgen/tokenize/augment.h"
#include "bachgen/tokenize/performance388.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::tokenize {
namespace {

TEST(Augment, ChoraleShiftsKeepEveryVoiceInItsRange) {
  music::ChoraleGrid g;
  g.pitches = {{74, 70, 65, 58}, {72, music::kSilent, 64, 58}};  // the bass holds
  const std::vector<int32_t> tokens = encode_satb16(g);
  const VoiceRanges piece = chorale_voice_ranges(tokens.data(), tokens.size(), 1);
  EXPECT_EQ(piece.lowest, (std::array<int, 4>{72, 70, 64, 58}));
  EXPECT_EQ(piece.highest, (std::array<int, 4>{74, 70, 65, 58}));
  VoiceRanges corpus;  // JSB: S 60-81, A 52-74, T 46-69, B 36-66
  corpus.lowest = {60, 52, 46, 36};
  corpus.highest = {81, 74, 69, 66};
  // S allows -12..+7, A -18..+4, T -18..+4, B -22..+8: so -6..+4 with max shift 6.
  EXPECT_EQ(allowed_transpositions(piece, corpus, 6), (std::pair<int, int>{-6, 4}));
  EXPECT_EQ(allowed_transpositions(piece, corpus, 2), (std::pair<int, int>{-2, 2}));
  VoiceRanges narrow = corpus;
  narrow.highest[0] = 73;  // the piece does not even fit unshifted: no shift at all
  EXPECT_EQ(allowed_transpositions(piece, narrow, 6), (std::pair<int, int>{0, 0}));

  std::vector<int32_t> shifted = tokens;
  transpose_chorale_tokens(shifted.data(), shifted.size(), 3);
  music::GridStep up{77, 73, 68, 61};
  EXPECT_EQ(decode_satb16(shifted).pitches[0], up);
  EXPECT_EQ(shifted[6], ChoraleTokens::kRest);  // rests stay
  std::vector<int32_t> onset = encode_satb16_onset(g);
  transpose_chorale_tokens(onset.data(), onset.size(), -2);
  EXPECT_EQ(onset[1], Satb16OnsetVocab::onset_token(72));
  EXPECT_EQ(onset[7], Satb16OnsetVocab::onset_token(62));
  EXPECT_EQ(onset[8], Satb16OnsetVocab::hold_token(56));
}

TEST(Augment, PerformanceTranspositionStaysInRange) {
  std::vector<int32_t> t = {389, 60, 256, 188, 127, 390};
  EXPECT_FALSE(transpose_performance_tokens(t.data(), t.size(), 1));  // 127 + 1
  EXPECT_EQ(t[1], 60);  // unchanged
  EXPECT_TRUE(transpose_performance_tokens(t.data(), t.size(), -3));
  EXPECT_EQ(t, (std::vector<int32_t>{389, 57, 256, 185, 124, 390}));
}

TEST(Augment, TimeStretchRescalesShifts) {
  using V = PerformanceVocab;
  // on@0, off@100 steps (1 s), on@150, off@350: stretched by 1.05 -> 105, 157.5 -> 158, 367.5 -> 368
  const std::vector<int32_t> t = {60, V::kTimeShift + 99, 188, V::kTimeShift + 49, 62,
                                  V::kTimeShift + 99, V::kTimeShift + 99, 190};
  const std::vector<int32_t> s = stretch_performance_tokens(t, 1.05);
  const std::vector<int32_t> expected = {60, V::kTimeShift + 99, V::kTimeShift + 4, 188,
                                         V::kTimeShift + 52, 62, V::kTimeShift + 99,
                                         V::kTimeShift + 99, V::kTimeShift + 9, 190};
  EXPECT_EQ(s, expected);
  const auto notes = decode_performance(s);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_DOUBLE_EQ(notes[0].end, 1.05);
  EXPECT_DOUBLE_EQ(notes[1].start, 1.58);
  EXPECT_DOUBLE_EQ(notes[1].end, 3.68);
  EXPECT_EQ(stretch_performance_tokens(t, 1.0), t);
}

}  // namespace
}  // namespace bachgen::tokenize
