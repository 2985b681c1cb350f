// Dropout with a counter-based mask: one 64-bit seed drawn from LibTorch's default generator per
// call (so `--seed` and checkpoints keep deciding it), then mask element i = a SplitMix64 hash
// of (seed, i), filled in parallel. The same elements drop for any thread count. On CPU it is
// several times faster than torch::dropout, whose per-element Bernoulli draws are serial there
// (docs/model.md, docs/benchmarks.md). Other devices use torch::dropout.
#pragma once

#include <torch/torch.h>

namespace bachgen::model {

// x * mask / (1 - p) while `training` and p > 0, else x. Gradients flow through the product.
torch::Tensor fast_dropout(const torch::Tensor& x, double p, bool training);

// fast_dropout with a torch::nn::Dropout module's probability and training mode.
inline torch::Tensor apply_dropout(const torch::nn::Dropout& module, const torch::Tensor& x) {
  return fast_dropout(x, module->options.p(), module->is_training());
}

// The keep mask (1 = kept) that fast_dropout draws for `numel` elements from `seed`, for tests.
std::vector<uint8_t> dropout_keep_mask(uint64_t seed, int64_t numel, double p);

}  // namespace bachgen::model
