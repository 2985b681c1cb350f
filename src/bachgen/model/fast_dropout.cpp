// Counter-based dropout.
#include "bachgen/model/fast_dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <mutex>

#include "bachgen/runtime/splitmix.h"

namespace bachgen::model {

namespace {

using runtime::splitmix64_hash;

// An element is kept when the top 32 bits of its hash are at least p * 2^32.
inline uint64_t drop_threshold(double p) { return static_cast<uint64_t>(p * 4294967296.0); }

uint64_t draw_seed() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get<at::CPUGeneratorImpl>()->random64();
}

}  // namespace

std::vector<uint8_t> dropout_keep_mask(uint64_t seed, int64_t numel, double p) {
  std::vector<uint8_t> keep(static_cast<size_t>(numel));
  const uint64_t threshold = drop_threshold(p);
  for (int64_t i = 0; i < numel; ++i) {
    keep[static_cast<size_t>(i)] = (splitmix64_hash(seed ^ static_cast<uint64_t>(i) * 0xd1342543de82ef95ULL) >> 32) >= threshold;
  }
  return keep;
}

torch::Tensor fast_dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  TORCH_CHECK(p < 1.0, "dropout probability must be below 1, got ", p);
  if (!x.device().is_cpu()) return torch::dropout(x, p, training);
  const uint64_t seed = draw_seed();
  const uint64_t threshold = drop_threshold(p);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  torch::Tensor mask = torch::empty(x.sizes(), x.options().dtype(torch::kFloat32).requires_grad(false));
  float* out = mask.data_ptr<float>();
  at::parallel_for(0, mask.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint64_t h = splitmix64_hash(seed ^ static_cast<uint64_t>(i) * 0xd1342543de82ef95ULL);
      out[i] = (h >> 32) >= threshold ? scale : 0.0f;
    }
  });
  return x * (x.scalar_type() == torch::kFloat32 ? mask : mask.to(x.scalar_type()));
}

}  // namespace bachgen::model
