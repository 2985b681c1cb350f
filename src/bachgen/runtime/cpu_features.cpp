// /proc/cpuinfo parsing.
#include "bachgen/runtime/cpu_features.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bachgen::runtime {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string CpuInfo::feature_list() const {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(avx512f, "avx512f");
  add(avx512_bf16, "avx512_bf16");
  add(amx_bf16, "amx_bf16");
  return out.empty() ? "none" : out;
}

CpuInfo parse_cpuinfo(std::string_view text) {
  CpuInfo info;
  bool have_flags = false;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (key == "processor") {
      ++info.logical_cores;
    } else if (key == "model name" && info.model_name.empty()) {
      info.model_name = std::string(value);
    } else if (key == "flags" && !have_flags) {
      have_flags = true;
      std::string_view rest = value;
      while (!rest.empty()) {
        const size_t sp = rest.find(' ');
        const std::string_view flag = rest.substr(0, sp);
        rest = sp == std::string_view::npos ? std::string_view{} : trim(rest.substr(sp + 1));
        if (flag == "avx2") info.avx2 = true;
        if (flag == "fma") info.fma = true;
        if (flag == "avx512f") info.avx512f = true;
        if (flag == "avx512_bf16") info.avx512_bf16 = true;
        if (flag == "amx_bf16") info.amx_bf16 = true;
      }
    }
  }
  if (info.model_name.empty()) info.model_name = "unknown";
  return info;
}

CpuInfo detect_cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_cpuinfo(text.str());
}

Precision resolve_precision(Precision requested, const CpuInfo& cpu, bool cuda) {
  if (requested == Precision::kFp16 && !cuda) {
    throw std::invalid_argument("--precision fp16 needs --device cuda (on the CPU: fp32 or bf16)");
  }
  if (requested != Precision::kAuto) return requested;
  if (cuda) return Precision::kFp16;
  return cpu.has_native_bf16() ? Precision::kBf16 : Precision::kFp32;
}

Precision parse_precision(std::string_view name) {
  if (name == "auto") return Precision::kAuto;
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "fp16") return Precision::kFp16;
  throw std::invalid_argument("unknown precision '" + std::string(name) +
                              "' (expected auto, fp32, bf16 or fp16)");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kAuto: return "auto";
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
  }
  return "?";
}

}  // namespace bachgen::runtime
