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

}  // namespace bachgen::runtime
