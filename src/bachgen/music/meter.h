// The time signature a bar of N 16ths is written with: the one rule every writer shares (the
// MusicXML and MIDI writers, the note text, convert's summary). A quarter-note meter where N
// is a multiple of 4 (16 -> 4/4, 12 -> 3/4), else 8ths (6 -> 3/8), else 16ths (5 -> 5/16).
// The grid keeps only N, so 6/8 reads back as 3/4. Torch-free, header-only.
#pragma once

#include <string>

namespace bachgen::music {

struct Meter {
  int numerator = 4;
  int denominator = 4;
};

inline Meter meter_of_bar(int steps_per_bar) {
  if (steps_per_bar % 4 == 0) return {steps_per_bar / 4, 4};
  if (steps_per_bar % 2 == 0) return {steps_per_bar / 2, 8};
  return {steps_per_bar, 16};
}

// "3/4".
inline std::string meter_name(int steps_per_bar) {
  const Meter m = meter_of_bar(steps_per_bar);
  return std::to_string(m.numerator) + "/" + std::to_string(m.denominator);
}

}  // namespace bachgen::music
