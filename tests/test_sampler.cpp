// The sampler on hand-computed distributions: temperature, top-k, top-p, masks, ties, greedy,
// the draw frequencies and the fixed stream of a seed.
#include "bachgen/generate/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace bachgen::generate {
namespace {

// Logits whose softmax is {0.1, 0.2, 0.3, 0.4}.
const float kLogits[4] = {std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)};

void expect_distribution(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << "token " << i;
}

TEST(Sampler, TopKAndTopPOnAHandComputedDistribution) {
  SamplingOptions o;
  expect_distribution(sampling_distribution(kLogits, 4, o), {0.1, 0.2, 0.3, 0.4});
  o.top_k = 3;  // drop 0.1, renormalize over 0.9
  expect_distribution(sampling_distribution(kLogits, 4, o), {0, 2.0 / 9, 3.0 / 9, 4.0 / 9});
  o.top_p = 0.6;  // 4/9 < 0.6 <= 4/9 + 3/9: keep two
  expect_distribution(sampling_distribution(kLogits, 4, o), {0, 0, 3.0 / 7, 4.0 / 7});
  o.top_p = 0.8;  // 7/9 < 0.8: all three stay
  expect_distribution(sampling_distribution(kLogits, 4, o), {0, 2.0 / 9, 3.0 / 9, 4.0 / 9});
  o.top_k = 0;
  o.top_p = 0.6;  // 0.4 < 0.6 <= 0.7
  expect_distribution(sampling_distribution(kLogits, 4, o), {0, 0, 3.0 / 7, 4.0 / 7});
  o.top_p = 0.7;  // exactly 0.4 + 0.3
  expect_distribution(sampling_distribution(kLogits, 4, o), {0, 0, 3.0 / 7, 4.0 / 7});
  o.top_p = 0.4;
  expect_distribution(sampling_distribution(kLogits, 4, o), {0, 0, 0, 1});
}

TEST(Sampler, TemperatureMaskTiesAndGreedy) {
  SamplingOptions o;
  o.temperature = 0.5;  // p^2, renormalized: {1, 4, 9, 16} / 30
  expect_distribution(sampling_distribution(kLogits, 4, o), {1 / 30.0, 4 / 30.0, 9 / 30.0, 16 / 30.0});
  o.temperature = 2.0;  // sqrt(p), renormalized
  const double s = std::sqrt(0.1) + std::sqrt(0.2) + std::sqrt(0.3) + std::sqrt(0.4);
  expect_distribution(sampling_distribution(kLogits, 4, o),
                      {std::sqrt(0.1) / s, std::sqrt(0.2) / s, std::sqrt(0.3) / s, std::sqrt(0.4) / s});
  o.temperature = 0;
  expect_distribution(sampling_distribution(kLogits, 4, o), {0, 0, 0, 1});
  const uint8_t allowed[4] = {1, 1, 1, 0};
  expect_distribution(sampling_distribution(kLogits, 4, o, allowed), {0, 0, 1, 0});
  o.temperature = 1;
  expect_distribution(sampling_distribution(kLogits, 4, o, allowed), {1 / 6.0, 2 / 6.0, 3 / 6.0, 0});
  // Equal logits: top-k keeps the lower ids.
  const float flat[4] = {0, 0, 0, 0};
  o.top_k = 2;
  expect_distribution(sampling_distribution(flat, 4, o), {0.5, 0.5, 0, 0});
  // -inf logits are never drawn.
  const float some[3] = {-INFINITY, 0, 0};
  o.top_k = 0;
  expect_distribution(sampling_distribution(some, 3, o), {0, 0.5, 0.5});
}

TEST(Sampler, BadOptionsAndEmptyMasksAreRefused) {
  SamplingOptions o;
  const uint8_t none[4] = {0, 0, 0, 0};
  EXPECT_THROW(sampling_distribution(kLogits, 4, o, none), std::invalid_argument);
  o.temperature = -1;
  EXPECT_THROW(sampling_distribution(kLogits, 4, o), std::invalid_argument);
  o.temperature = 1;
  o.top_p = 0;
  EXPECT_THROW(sampling_distribution(kLogits, 4, o), std::invalid_argument);
  o.top_p = 1.5;
  EXPECT_THROW(sampling_distribution(kLogits, 4, o), std::invalid_argument);
  o.top_p = 1;
  o.top_k = -2;
  EXPECT_THROW(sampling_distribution(kLogits, 4, o), std::invalid_argument);
}

TEST(Sampler, DrawsFollowTheDistributionAndTheSeed) {
  Rng rng(42);
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  int counts[4] = {0, 0, 0, 0};
  const int n = 200000;
  for (int i = 0; i < n; ++i) ++counts[draw(p, rng)];
  for (int t = 0; t < 4; ++t) EXPECT_NEAR(counts[t] / static_cast<double>(n), p[t], 0.005) << t;
  // The stream of a seed is fixed: SplitMix64's published first output for seed 0.
  Rng zero(0);
  EXPECT_EQ(zero.next(), 0xe220a8397b1dcdafULL);
  Rng a(7), b(7);
  SamplingOptions o;
  o.top_p = 0.9;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sample(kLogits, 4, o, a), sample(kLogits, 4, o, b));
  for (int i = 0; i < 1000; ++i) {
    const double u = a.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Sampler, TheHoldSplitTakesTheHoldAtItsTemperatureAndMovesAtTheOther) {
  constexpr int kDraws = 20000;
  std::vector<uint8_t> scratch;
  auto frequencies = [&](const SamplingOptions& o, double hold_temperature, int hold, const uint8_t* allowed) {
    Rng rng(7);
    std::vector<double> f(4, 0.0);
    for (int i = 0; i < kDraws; ++i) f[static_cast<size_t>(sample_hold_or_move(kLogits, 4, o, hold_temperature, hold, rng, allowed, scratch))] += 1.0 / kDraws;
    return f;
  };
  auto expect_near = [](const std::vector<double>& got, const std::vector<double>& want) {
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 0.015) << "token " << i;
  };
  SamplingOptions o;
  // The same temperature both ways: the distribution of sample(), {0.1, 0.2, 0.3, 0.4}.
  expect_near(frequencies(o, 1.0, 1, nullptr), {0.1, 0.2, 0.3, 0.4});
  // Holding token 1 at temperature 1 (0.2), moving greedily: the rest all to token 3.
  o.temperature = 0;
  expect_near(frequencies(o, 1.0, 1, nullptr), {0, 0.2, 0, 0.8});
  // A mask: token 3 not allowed, so the hold is 0.2 / 0.6 and the moves go to token 2.
  const uint8_t no_three[4] = {1, 1, 1, 0};
  expect_near(frequencies(o, 1.0, 1, no_three), {0, 1.0 / 3, 2.0 / 3, 0});
  // Holding at temperature 0.5: 0.2^2 / (0.01 + 0.04 + 0.09 + 0.16) = 0.1333.
  expect_near(frequencies(o, 0.5, 1, nullptr), {0, 0.04 / 0.30, 0, 1 - 0.04 / 0.30});
  // Nothing else allowed: always the hold. A hold outside the vocabulary is refused.
  const uint8_t only_one[4] = {0, 1, 0, 0};
  expect_near(frequencies(o, 1.0, 1, only_one), {0, 1, 0, 0});
  Rng rng(1);
  EXPECT_THROW(sample_hold_or_move(kLogits, 4, o, 1.0, 4, rng, nullptr, scratch), std::invalid_argument);
}

}  // namespace
}  // namespace bachgen::generate
