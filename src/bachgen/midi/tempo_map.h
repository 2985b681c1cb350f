// Converts ticks to seconds and back, exactly: the elapsed time is accumulated as an integer
// (ticks x microseconds-per-quarter) and divided once, so no rounding error builds up over
// thousands of tempo changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bachgen/midi/midi_file.h"

namespace bachgen::midi {

struct TempoChange {
  int64_t tick = 0;
  uint32_t us_per_quarter = kDefaultTempo;
  friend bool operator==(const TempoChange& a, const TempoChange& b) {
    return a.tick == b.tick && a.us_per_quarter == b.us_per_quarter;
  }
};

class TempoMap {
 public:
  // 120 bpm until the first change. When several changes share a tick, the last one (in the
  // order given) wins. SMPTE divisions ignore tempo: a tick is a fixed fraction of a frame.
  explicit TempoMap(Division division = {}, std::vector<TempoChange> changes = {});

  // Format 0 and 1: the tempo events of every track (a format-1 file may keep them anywhere;
  // equal ticks are resolved in track order). Format 2: those of track 0; see of_track.
  static TempoMap of_file(const MidiFile& file);
  // The tempo events of one track only (format 2 sequences are independent).
  static TempoMap of_track(const MidiFile& file, size_t track);

  double seconds_at(int64_t tick) const;
  // The last tick that starts at or before `seconds` (0 for negative times).
  int64_t tick_at(double seconds) const;
  uint32_t tempo_at(int64_t tick) const;
  // The effective changes, sorted, one per tick (the implicit 120 bpm start is not listed).
  const std::vector<TempoChange>& changes() const { return changes_; }
  Division division() const { return division_; }

 private:
  Division division_;
  std::vector<TempoChange> changes_;
  // For each change, the time at which it starts, in microseconds x ticks-per-quarter.
  std::vector<long double> start_scaled_us_;
};

}  // namespace bachgen::midi
