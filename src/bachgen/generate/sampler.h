// The model-free sampler: from a vector of logits to a token, with temperature, top-k, top-p
// (nucleus) and an optional mask of allowed tokens, drawn with a seeded, portable RNG (the
// same seed gives the same tokens on every machine and standard library). Torch-free;
// docs/generation.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bachgen/runtime/splitmix.h"

namespace bachgen::generate {

struct SamplingOptions {
  double temperature = 1.0;  // 0 = greedy (the most probable allowed token)
  int top_k = 0;             // keep the k most probable tokens; 0 = all
  double top_p = 1.0;        // keep the fewest most probable tokens whose probability sums to >= p
};

// The sampler's generator: runtime/splitmix.h.
using Rng = runtime::SplitMix64;

// The distribution a token is drawn from, in this order: softmax(logits / temperature) over
// the allowed tokens (all when `allowed` is null; allowed[i] != 0 keeps token i), then top-k,
// then top-p, each step renormalizing. Ties in probability keep the lower token id first.
// Temperature 0 puts all mass on the most probable allowed token. Throws
// std::invalid_argument for a negative temperature, top_p outside (0, 1], or no allowed token.
std::vector<double> sampling_distribution(const float* logits, size_t count, const SamplingOptions& options,
                                          const uint8_t* allowed = nullptr);

// Draws an index from a distribution (probabilities summing to 1) by inverting its CDF.
int draw(const std::vector<double>& probabilities, Rng& rng);

// sampling_distribution, then draw.
int sample(const float* logits, size_t count, const SamplingOptions& options, Rng& rng,
           const uint8_t* allowed = nullptr);

// The hold split (generate/infill.h, InfillOptions::hold_temperature): token `hold` (allowed)
// is taken with its probability in sampling_distribution at `hold_temperature` (the other
// options as given); otherwise a token is drawn at options.temperature from the allowed ones
// without `hold` (hold itself when nothing else is allowed). With hold_temperature equal to
// options.temperature and no top-k/top-p, the result is distributed as sample()'s.
// `scratch` is working space (any content).
int sample_hold_or_move(const float* logits, size_t count, const SamplingOptions& options, double hold_temperature, int hold,
                        Rng& rng, const uint8_t* allowed, std::vector<uint8_t>& scratch);

}  // namespace bachgen::generate
