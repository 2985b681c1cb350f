// LibTorch process settings.
#include "bachgen/runtime/torch_runtime.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <thread>

namespace bachgen::runtime {

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

bool cuda_available() { return torch::cuda::is_available(); }

int set_threads(int n) {
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  at::set_num_threads(n);
  return at::get_num_threads();
}

int threads() { return at::get_num_threads(); }

namespace {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool cpu_autocast_enabled() { return at::autocast::is_autocast_enabled(at::kCPU); }
void set_cpu_autocast(bool on) { at::autocast::set_autocast_enabled(at::kCPU, on); }
at::ScalarType cpu_autocast_dtype() { return at::autocast::get_autocast_dtype(at::kCPU); }
void set_cpu_autocast_dtype(at::ScalarType t) { at::autocast::set_autocast_dtype(at::kCPU, t); }
#else
bool cpu_autocast_enabled() { return at::autocast::is_cpu_enabled(); }
void set_cpu_autocast(bool on) { at::autocast::set_cpu_enabled(on); }
at::ScalarType cpu_autocast_dtype() { return at::autocast::get_autocast_cpu_dtype(); }
void set_cpu_autocast_dtype(at::ScalarType t) { at::autocast::set_autocast_cpu_dtype(t); }
#endif
}  // namespace

CpuAutocast::CpuAutocast(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  previous_enabled_ = cpu_autocast_enabled();
  previous_dtype_ = static_cast<int>(cpu_autocast_dtype());
  set_cpu_autocast(true);
  set_cpu_autocast_dtype(at::kBFloat16);
  at::autocast::increment_nesting();
}

CpuAutocast::~CpuAutocast() {
  if (!enabled_) return;
  // Leaving the outermost region frees the casted weights autocast cached.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_cpu_autocast(previous_enabled_);
  set_cpu_autocast_dtype(static_cast<at::ScalarType>(previous_dtype_));
}

}  // namespace bachgen::runtime
