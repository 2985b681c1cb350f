// SplitMix64 (Steele, Lea & Flood 2014): the one random generator of the project. A small,
// well-mixed generator whose stream is fixed by its seed, so the sampler draws the same tokens
// on every machine and standard library, and the data pipelines give the same examples for any
// number of loader threads (one generator per example, seeded from the seed and the index).
// splitmix64_hash is the same mixing as a stateless hash (counter-based dropout masks).
#pragma once

#include <cstdint>

namespace bachgen::runtime {

inline constexpr uint64_t kSplitMixGamma = 0x9E3779B97F4A7C15ull;

// The generator's output for state `z` (before its increment): mix(z + gamma).
inline constexpr uint64_t splitmix64_hash(uint64_t z) {
  z += kSplitMixGamma;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    const uint64_t out = splitmix64_hash(state_);
    state_ += kSplitMixGamma;
    return out;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1), 53 random bits
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

}  // namespace bachgen::runtime
