// Tempo map construction and exact tick <-> seconds conversion.
#include "bachgen/midi/tempo_map.h"

#include <algorithm>
#include <cmath>

namespace bachgen::midi {

namespace {

__extension__ using Int128 = __int128;

void collect_tempos(const Track& track, std::vector<TempoChange>& out) {
  for (const Event& e : track.events) {
    if (e.type != EventType::kMeta) continue;
    if (auto us = decode_tempo(e)) out.push_back({e.tick, *us});
  }
}

}  // namespace

TempoMap::TempoMap(Division division, std::vector<TempoChange> changes) : division_(division) {
  std::stable_sort(changes.begin(), changes.end(),
                   [](const TempoChange& a, const TempoChange& b) { return a.tick < b.tick; });
  for (const TempoChange& c : changes) {
    if (!changes_.empty() && changes_.back().tick == c.tick) {
      changes_.back() = c;
    } else {
      changes_.push_back(c);
    }
  }
  // Exact integer accumulation; converted once per change to keep lookups cheap.
  Int128 elapsed = 0;
  int64_t tick = 0;
  uint32_t tempo = kDefaultTempo;
  start_scaled_us_.reserve(changes_.size());
  for (const TempoChange& c : changes_) {
    const int64_t from = std::max<int64_t>(c.tick, 0);
    elapsed += static_cast<Int128>(from - tick) * tempo;
    start_scaled_us_.push_back(static_cast<long double>(elapsed));
    tick = from;
    tempo = c.us_per_quarter;
  }
}

TempoMap TempoMap::of_file(const MidiFile& file) {
  if (file.format == 2) return of_track(file, 0);
  std::vector<TempoChange> changes;
  for (const Track& t : file.tracks) collect_tempos(t, changes);
  return TempoMap(file.division, std::move(changes));
}

TempoMap TempoMap::of_track(const MidiFile& file, size_t track) {
  std::vector<TempoChange> changes;
  if (track < file.tracks.size()) collect_tempos(file.tracks[track], changes);
  return TempoMap(file.division, std::move(changes));
}

double TempoMap::seconds_at(int64_t tick) const {
  tick = std::max<int64_t>(tick, 0);
  if (division_.is_smpte()) {
    return static_cast<double>(static_cast<long double>(tick) / division_.smpte_ticks_per_second());
  }
  // The last change at or before `tick`.
  const auto it = std::upper_bound(changes_.begin(), changes_.end(), tick,
                                   [](int64_t t, const TempoChange& c) { return t < c.tick; });
  Int128 total = 0;  // microseconds x ticks-per-quarter, exactly
  if (it == changes_.begin()) {
    total = static_cast<Int128>(tick) * kDefaultTempo;
  } else {
    const size_t i = static_cast<size_t>(it - changes_.begin()) - 1;
    // Starts are whole numbers held exactly in a long double (64-bit mantissa) below 2^64.
    const long double start = start_scaled_us_[i];
    total = (start < 9.2e18L ? static_cast<Int128>(static_cast<int64_t>(start))
                             : static_cast<Int128>(start)) +
            static_cast<Int128>(tick - std::max<int64_t>(changes_[i].tick, 0)) *
                changes_[i].us_per_quarter;
  }
  const int64_t denominator = int64_t{1000000} * division_.ticks_per_quarter();
  if (total < (Int128{1} << 53)) {
    // Both exact in a double: one correctly rounded division.
    return static_cast<double>(static_cast<int64_t>(total)) / static_cast<double>(denominator);
  }
  return static_cast<double>(static_cast<long double>(total) / denominator);
}

int64_t TempoMap::tick_at(double seconds) const {
  if (!(seconds > 0)) return 0;
  if (division_.is_smpte()) {
    return static_cast<int64_t>(std::floor(seconds * division_.smpte_ticks_per_second() + 1e-9));
  }
  const long double target = static_cast<long double>(seconds) * 1e6L * division_.ticks_per_quarter();
  // The last change that starts at or before the target time.
  const auto it = std::upper_bound(start_scaled_us_.begin(), start_scaled_us_.end(), target);
  int64_t from_tick = 0;
  long double from_time = 0;
  uint32_t tempo = kDefaultTempo;
  if (it != start_scaled_us_.begin()) {
    const size_t i = static_cast<size_t>(it - start_scaled_us_.begin()) - 1;
    from_tick = std::max<int64_t>(changes_[i].tick, 0);
    from_time = start_scaled_us_[i];
    tempo = changes_[i].us_per_quarter;
  }
  if (tempo == 0) return from_tick;  // a zero tempo stops time: nothing later starts earlier
  // A tiny tolerance so that seconds_at(t) maps back to t despite the final rounding.
  const long double ticks = (target - from_time) / tempo;
  return from_tick + static_cast<int64_t>(std::floor(ticks + 1e-9L));
}

uint32_t TempoMap::tempo_at(int64_t tick) const {
  const auto it = std::upper_bound(changes_.begin(), changes_.end(), tick,
                                   [](int64_t t, const TempoChange& c) { return t < c.tick; });
  return it == changes_.begin() ? kDefaultTempo : std::prev(it)->us_per_quarter;
}

}  // namespace bachgen::midi
