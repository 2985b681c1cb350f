#include "bachgen/tokenize/conditions.h"

#include <algorithm>

namespace bachgen::tokenize {

namespace {

int64_t positive_mod(int64_t a, int64_t m) { return (a % m + m) % m; }

const char* const kTonicNames[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

}  // namespace

int64_t bar_index(const PieceConditions& c, int64_t step) {
  if (c.steps_per_bar == 16) return 1 + positive_mod(step + c.bar_phase, 16);
  if (c.steps_per_bar == 12) return 17 + positive_mod(step + c.bar_phase, 12);
  return 0;
}

int64_t end_index(const PieceConditions& c, int64_t step) {
  if (c.steps <= 0) return 0;
  const int64_t r = std::max<int64_t>(0, c.steps - 1 - step);
  if (r < 64) return 1 + r;
  return 65 + std::min<int64_t>((r - 64) / 32, 6);
}

int64_t key_index(const PieceConditions& c) { return c.key >= 0 && c.key < 24 ? 1 + c.key : 0; }

int transposed_key(int key, int semitones) {
  if (key < 0 || key >= 24) return -1;
  const int tonic = static_cast<int>(positive_mod(key % 12 + semitones, 12));
  return tonic + (key >= 12 ? 12 : 0);
}

std::string describe(const PieceConditions& c) {
  std::string s = c.steps_per_bar == 16 ? "4/4" : c.steps_per_bar == 12 ? "3/4" : "meter unknown";
  if (c.meter_known()) {
    const int pickup = (c.steps_per_bar - c.bar_phase) % c.steps_per_bar;
    s += pickup == 0 ? ", no pickup" : ", pickup " + std::to_string(pickup);
  }
  s += c.steps > 0 ? ", " + std::to_string(c.steps) + " steps" : ", length unknown";
  s += c.key >= 0 && c.key < 24 ? std::string(", ") + kTonicNames[c.key % 12] + (c.key >= 12 ? " minor" : " major")
                                : ", key unknown";
  return s;
}

}  // namespace bachgen::tokenize
