// Four-part voice leading: the rules `bachgen generate` enforces while sampling and the style
// statistics `bachgen analyze` reports (docs/generation.md#analyze gives every definition).
// Torch-free.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/music/chorale_grid.h"

namespace bachgen::music {

// The usual SATB ranges (MIDI numbers, C4 = 60): S 60-81, A 53-74, T 48-69, B 36-64.
inline constexpr std::array<int, kVoices> kVoiceLowest{60, 53, 48, 36};
inline constexpr std::array<int, kVoices> kVoiceHighest{81, 74, 69, 64};

// Whether composing and harmonizing mask what breaks the rules below: strict | off.
enum class VoiceLeading { kStrict, kOff };
VoiceLeading parse_voice_leading(const std::string& name);  // throws std::invalid_argument
const char* voice_leading_name(VoiceLeading rules);

// Two consecutive sonorities of voices a (upper) and b (lower), pitches p1 -> p2 and q1 -> q2,
// all sounding: a parallel fifth when both voices move in the same direction and the interval
// is a fifth modulo the octave (7) in both; a parallel octave likewise with 0 (octave or
// unison). Returns 5, 8 or 0.
int parallel_kind(int p1, int p2, int q1, int q2);

// Whether `pitch` for `voice` at this step breaks a rule, given `previous` (the sonority before;
// kSilent where unknown) and `current` (this step; the voices above `voice` decided, the rest
// kSilent): a parallel fifth or octave with a decided voice, crossing the upper neighbour
// (sounding above it), or a leap of more than an octave from the voice's previous pitch.
bool breaks_voice_leading(int voice, int pitch, const GridStep& previous, const GridStep& current);

struct StyleStats {
  int64_t sonorities = 0;         // steps where some voice starts a note or falls silent
  int64_t pair_moves = 0;         // voice pairs where both voices change pitch between sonorities
  int64_t parallel_fifths = 0;
  int64_t parallel_octaves = 0;
  int64_t crossings = 0;          // (sonority, adjacent pair) with the lower voice above the upper
  int64_t notes = 0;
  int64_t out_of_range = 0;       // notes outside their voice's range
  int64_t wide_spacing = 0;       // (sonority, S-A or A-T) more than an octave apart
  std::array<int64_t, 12> pitch_class_steps{};  // sounding 16th steps per pitch class

  void add(const StyleStats& other);
  double fifths_per_100_moves() const;
  double octaves_per_100_moves() const;
  double crossings_per_100_sonorities() const;
  double wide_spacing_per_100_sonorities() const;
  double out_of_range_per_100_notes() const;
  double pitch_class_entropy() const;  // bits, of the duration-weighted pitch-class histogram
};

StyleStats analyze_grid(const ChoraleGrid& grid);

}  // namespace bachgen::music
