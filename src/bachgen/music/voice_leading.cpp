// Voice-leading rules and style statistics.
#include "bachgen/music/voice_leading.h"

#include <stdexcept>

#include <cmath>
#include <cstdlib>

namespace bachgen::music {

VoiceLeading parse_voice_leading(const std::string& name) {
  if (name == "strict") return VoiceLeading::kStrict;
  if (name == "off") return VoiceLeading::kOff;
  throw std::invalid_argument("voice leading is strict or off, not '" + name + "'");
}

const char* voice_leading_name(VoiceLeading rules) { return rules == VoiceLeading::kStrict ? "strict" : "off"; }

namespace {

int sign(int x) { return (x > 0) - (x < 0); }
int interval_class(int upper, int lower) { return ((upper - lower) % 12 + 12) % 12; }
double per_100(int64_t count, int64_t base) { return base == 0 ? 0.0 : 100.0 * static_cast<double>(count) / static_cast<double>(base); }

}  // namespace

int parallel_kind(int p1, int p2, int q1, int q2) {
  if (p1 == p2 || q1 == q2 || sign(p2 - p1) != sign(q2 - q1)) return 0;
  const int before = interval_class(p1, q1), after = interval_class(p2, q2);
  if (before == 7 && after == 7) return 5;
  if (before == 0 && after == 0) return 8;
  return 0;
}

bool breaks_voice_leading(int voice, int pitch, const GridStep& previous, const GridStep& current) {
  const int before = previous[static_cast<size_t>(voice)];
  if (before != kSilent && std::abs(pitch - before) > 12) return true;
  if (voice > 0 && current[static_cast<size_t>(voice - 1)] != kSilent && pitch > current[static_cast<size_t>(voice - 1)]) {
    return true;  // above the upper neighbour
  }
  if (before == kSilent) return false;
  for (int other = 0; other < voice; ++other) {
    const int o1 = previous[static_cast<size_t>(other)], o2 = current[static_cast<size_t>(other)];
    if (o1 == kSilent || o2 == kSilent) continue;
    if (parallel_kind(o1, o2, before, pitch) != 0) return true;
  }
  return false;
}

void StyleStats::add(const StyleStats& o) {
  sonorities += o.sonorities;
  pair_moves += o.pair_moves;
  parallel_fifths += o.parallel_fifths;
  parallel_octaves += o.parallel_octaves;
  crossings += o.crossings;
  notes += o.notes;
  out_of_range += o.out_of_range;
  wide_spacing += o.wide_spacing;
  for (size_t i = 0; i < 12; ++i) pitch_class_steps[i] += o.pitch_class_steps[i];
}

double StyleStats::fifths_per_100_moves() const { return per_100(parallel_fifths, pair_moves); }
double StyleStats::octaves_per_100_moves() const { return per_100(parallel_octaves, pair_moves); }
double StyleStats::crossings_per_100_sonorities() const { return per_100(crossings, sonorities); }
double StyleStats::wide_spacing_per_100_sonorities() const { return per_100(wide_spacing, sonorities); }
double StyleStats::out_of_range_per_100_notes() const { return per_100(out_of_range, notes); }

double StyleStats::pitch_class_entropy() const {
  double total = 0;
  for (int64_t c : pitch_class_steps) total += static_cast<double>(c);
  if (total == 0) return 0;
  double h = 0;
  for (int64_t c : pitch_class_steps) {
    if (c > 0) h -= (static_cast<double>(c) / total) * std::log2(static_cast<double>(c) / total);
  }
  return h;
}

StyleStats analyze_grid(const ChoraleGrid& grid) {
  StyleStats s;
  bool have_previous = false;
  GridStep previous{};
  for (size_t t = 0; t < grid.steps(); ++t) {
    const GridStep& step = grid.pitches[t];
    bool change = !have_previous;
    for (int v = 0; v < kVoices; ++v) {
      const int p = step[static_cast<size_t>(v)];
      if (p != kSilent) ++s.pitch_class_steps[static_cast<size_t>(p % 12)];
      if (grid.is_onset(t, v)) {
        ++s.notes;
        if (p < kVoiceLowest[static_cast<size_t>(v)] || p > kVoiceHighest[static_cast<size_t>(v)]) ++s.out_of_range;
        change = true;
      }
      if (have_previous && (p == kSilent) != (previous[static_cast<size_t>(v)] == kSilent)) change = true;
    }
    if (!change) continue;
    ++s.sonorities;
    for (int v = 0; v + 1 < kVoices; ++v) {
      const int upper = step[static_cast<size_t>(v)], lower = step[static_cast<size_t>(v + 1)];
      if (upper != kSilent && lower != kSilent && lower > upper) ++s.crossings;
      if (v < 2 && upper != kSilent && lower != kSilent && upper - lower > 12) ++s.wide_spacing;
    }
    if (have_previous) {
      for (int a = 0; a < kVoices; ++a) {
        for (int b = a + 1; b < kVoices; ++b) {
          const int p1 = previous[static_cast<size_t>(a)], p2 = step[static_cast<size_t>(a)];
          const int q1 = previous[static_cast<size_t>(b)], q2 = step[static_cast<size_t>(b)];
          if (p1 == kSilent || p2 == kSilent || q1 == kSilent || q2 == kSilent) continue;
          if (p1 == p2 || q1 == q2) continue;
          ++s.pair_moves;
          const int kind = parallel_kind(p1, p2, q1, q2);
          s.parallel_fifths += kind == 5;
          s.parallel_octaves += kind == 8;
        }
      }
    }
    previous = step;
    have_previous = true;
  }
  return s;
}

}  // namespace bachgen::music
