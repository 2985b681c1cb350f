// Key analysis in music/: names both ways, and moving a grid into another key by the octave
// that keeps its voices in range (hand-worked cases).
#include "bachgen/music/key.h"

#include <gtest/gtest.h>

namespace bachgen::music {
namespace {

TEST(Key, TransposedKeysMoveTheTonicKeepTheModeAndTakeTheSimplerSignature) {
  EXPECT_EQ(transposed_key(parse_key("C major"), 9).name(), "A major");
  EXPECT_EQ(transposed_key(parse_key("C major"), 9).fifths, 3);
  const KeyGuess b_flat_minor = transposed_key(parse_key("A minor"), 1);
  EXPECT_EQ(b_flat_minor.name(), "Bb minor");
  EXPECT_EQ(b_flat_minor.fifths, -5);
  EXPECT_TRUE(b_flat_minor.minor);
  EXPECT_EQ(transposed_key(parse_key("D major"), -14).name(), "C major");  // down more than an octave
  EXPECT_EQ(transposed_key(parse_key("Gb major"), 0).fifths, 6);  // six sharps over six flats
  EXPECT_EQ(transposed_key(transposed_key(parse_key("E minor"), 5), -5).name(), "E minor");
}

TEST(Key, TransposeIntoKeyMovesTheTonicByTheBestOctave) {
  ChoraleGrid c_major;  // C major cadence, voices in range
  c_major.pitches = {{72, 67, 64, 48}, {74, 67, 65, 43}, {72, 67, 64, 48}, {76, 72, 67, 48}};
  ASSERT_EQ(guess_key(c_major).name(), "C major");
  ChoraleGrid g = c_major;
  const KeyChange to_d = transpose_into_key(g, parse_key("D major"));
  EXPECT_EQ(to_d.from, "C major");
  EXPECT_EQ(to_d.to, "D major");
  EXPECT_EQ(to_d.semitones, 2);  // up a tone beats down a seventh: every note stays in range
  EXPECT_TRUE(to_d.mode_matches);
  EXPECT_EQ(g.pitches[0], (GridStep{74, 69, 66, 50}));
  g = c_major;
  const KeyChange to_a = transpose_into_key(g, parse_key("A major"));
  EXPECT_EQ(to_a.semitones, -3);  // A below: 72 -> 69 keeps the soprano in range; up 9 would not
  g = c_major;
  const KeyChange minor = transpose_into_key(g, parse_key("D minor"));
  EXPECT_FALSE(minor.mode_matches);  // a major piece stays major, on D
  EXPECT_EQ(minor.to, "D major");
  ChoraleGrid rests;
  rests.pitches = {{kSilent, kSilent, kSilent, kSilent}};
  EXPECT_EQ(transpose_into_key(rests, parse_key("Eb")).semitones, 3);
  EXPECT_THROW(parse_key("H major"), std::invalid_argument);
  EXPECT_THROW(parse_key("D dorian"), std::invalid_argument);
}

}  // namespace
}  // namespace bachgen::music
