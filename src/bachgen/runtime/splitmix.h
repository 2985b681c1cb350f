// SplitMix64 (Steele, Lea & Flood 2014): a small, well-mixed generator whose stream is fixed by
// its seed, for data pipelines that must give the same examples on every machine and for any
// number of loader threads (one generator per example, seeded from the seed and the index).
#pragma once

#include <cstdint>

namespace bachgen::runtime {

struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
};

}  // namespace bachgen::runtime
