// The few LibTorch process settings the programs choose once at start: intra-op threads
// (LibTorch starts with one thread on some machines), and facts for `--version`. The header
// is torch-free so that programs and tests that only need these do not compile torch.
#pragma once

#include <string>

namespace bachgen::runtime {

std::string torch_version();  // "1.13.0"
bool cuda_available();
// Sets LibTorch's intra-op threads; n <= 0 means every core. Returns the count in effect.
int set_threads(int n);
int threads();

// Autocast for the lifetime of the object (when `enabled`): on the CPU in bfloat16; on CUDA in
// bfloat16 or float16 (`fp16`). Matmuls and other autocast-listed ops run in the low precision,
// reductions and losses in fp32. Restores the previous state on destruction. The LibTorch API
// for this changed in 2.4; this is the one place that knows both.
class Autocast {
 public:
  Autocast(bool enabled, bool cuda, bool fp16);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool enabled_;
  bool cuda_;
  bool previous_enabled_ = false;
  int previous_dtype_ = 0;
};

// bf16 autocast on the CPU.
class CpuAutocast : public Autocast {
 public:
  explicit CpuAutocast(bool enabled) : Autocast(enabled, /*cuda=*/false, /*fp16=*/false) {}
};

}  // namespace bachgen::runtime
