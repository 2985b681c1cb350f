// Four-part music on a 16th-note grid: one row per 16th, one pitch per voice (soprano, alto,
// tenor, bass), -1 for a silent voice. Sources that know where notes start (MIDI) also mark
// onsets; the JSB grid does not, and a repeated pitch there reads as a held note.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bachgen::music {

inline constexpr int kVoices = 4;  // soprano, alto, tenor, bass
inline constexpr int8_t kSilent = -1;

using GridStep = std::array<int8_t, kVoices>;

struct ChoraleGrid {
  std::vector<GridStep> pitches;                   // (steps, 4); kSilent = no note
  std::vector<std::array<bool, kVoices>> onsets;   // same shape, or empty when unknown

  size_t steps() const { return pitches.size(); }
  bool knows_onsets() const { return !onsets.empty(); }
  // Onset of voice v at step t: the stored flag, or (without flags) "sounds, and differs from
  // the step before" — the hold rule of the JSB grid.
  bool is_onset(size_t t, int v) const {
    if (pitches[t][v] == kSilent) return false;
    if (knows_onsets()) return onsets[t][v];
    return t == 0 || pitches[t - 1][v] != pitches[t][v];
  }
  friend bool operator==(const ChoraleGrid& a, const ChoraleGrid& b) {
    return a.pitches == b.pitches && a.onsets == b.onsets;
  }
};

}  // namespace bachgen::music
