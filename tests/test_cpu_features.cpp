// /proc/cpuinfo parsing and the `--precision auto` decision.
#include <gtest/gtest.h>

#include "bachgen/runtime/cpu_features.h"

namespace bachgen::runtime {
namespace {

const char* const kZen4 =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n"
    "flags\t\t: fpu sse2 avx2 fma avx512f avx512bw avx512_bf16 avx512_vnni\n\n"
    "processor\t: 1\nmodel name\t: AMD EPYC 9R14 96-Core Processor\nflags\t\t: fpu avx2\n";
const char* const kZen3 =
    "processor\t: 0\nmodel name\t: AMD EPYC 7R13 Processor\nflags\t\t: fpu avx avx2 fma\n";

TEST(CpuFeatures, ParsesModelFlagsAndCores) {
  const CpuInfo zen4 = parse_cpuinfo(kZen4);
  EXPECT_EQ(zen4.model_name, "AMD EPYC 9R14 96-Core Processor");
  EXPECT_EQ(zen4.logical_cores, 2);
  EXPECT_TRUE(zen4.avx512f);
  EXPECT_TRUE(zen4.avx512_bf16);
  EXPECT_EQ(zen4.feature_list(), "avx2 fma avx512f avx512_bf16");
  const CpuInfo zen3 = parse_cpuinfo(kZen3);
  EXPECT_FALSE(zen3.avx512f);
  EXPECT_FALSE(zen3.has_native_bf16());
  EXPECT_EQ(parse_cpuinfo("").model_name, "unknown");
  EXPECT_EQ(parse_cpuinfo("").feature_list(), "none");
}

TEST(CpuFeatures, AutoPrecisionPicksBf16OnlyWhereItIsNative) {
  EXPECT_EQ(resolve_precision(Precision::kAuto, parse_cpuinfo(kZen4)), Precision::kBf16);
  EXPECT_EQ(resolve_precision(Precision::kAuto, parse_cpuinfo(kZen3)), Precision::kFp32);
  EXPECT_EQ(resolve_precision(Precision::kBf16, parse_cpuinfo(kZen3)), Precision::kBf16);
  EXPECT_EQ(parse_precision("fp32"), Precision::kFp32);
  EXPECT_EQ(parse_precision("fp16"), Precision::kFp16);
  EXPECT_THROW(parse_precision("fp8"), std::invalid_argument);
  // CUDA: auto is fp16 (with a gradient scaler); fp16 on the CPU is refused.
  EXPECT_EQ(resolve_precision(Precision::kAuto, parse_cpuinfo(kZen4), /*cuda=*/true), Precision::kFp16);
  EXPECT_EQ(resolve_precision(Precision::kBf16, parse_cpuinfo(kZen3), /*cuda=*/true), Precision::kBf16);
  EXPECT_THROW(resolve_precision(Precision::kFp16, parse_cpuinfo(kZen4)), std::invalid_argument);
  EXPECT_STREQ(precision_name(Precision::kFp16), "fp16");
  EXPECT_STREQ(precision_name(Precision::kAuto), "auto");
}

}  // namespace
}  // namespace bachgen::runtime
