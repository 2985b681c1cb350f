// What the CPU can do, read from /proc/cpuinfo: its name, the SIMD features LibTorch uses, and
// whether bf16 arithmetic pays off here (native AVX512-BF16 or AMX-BF16; elsewhere it is
// emulated and slower than fp32). Plain C++17, no torch.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bachgen::runtime {

struct CpuInfo {
  std::string model_name;  // "unknown" when /proc/cpuinfo does not say
  int logical_cores = 0;   // processors listed in /proc/cpuinfo
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512_bf16 = false;
  bool amx_bf16 = false;

  bool has_native_bf16() const { return avx512_bf16 || amx_bf16; }
  // The features above that are present, space-separated ("avx2 fma avx512f").
  std::string feature_list() const;
};

// Parses the text of /proc/cpuinfo (the first processor's flags count).
CpuInfo parse_cpuinfo(std::string_view text);
// Reads /proc/cpuinfo of this machine (an empty CpuInfo with model "unknown" if unreadable).
CpuInfo detect_cpu();

enum class Precision { kAuto, kFp32, kBf16, kFp16 };
// On the CPU, `auto` is bf16 where the CPU computes bf16 natively, fp32 everywhere else; fp16 is
// refused there (no CPU fp16 autocast). On CUDA (`cuda` true), `auto` is fp16 with a gradient
// scaler, the mixed precision every CUDA GPU of the last years runs fast.
Precision resolve_precision(Precision requested, const CpuInfo& cpu, bool cuda = false);
Precision parse_precision(std::string_view name);  // "auto"|"fp32"|"bf16"|"fp16"; throws otherwise
const char* precision_name(Precision p);

}  // namespace bachgen::runtime
