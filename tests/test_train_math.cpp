// The trainer's arithmetic: the loss (cross-entropy, label smoothing, focal term) against
// values computed by hand, the fp16 gradient scaler's rules, and the counter-based dropout.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "bachgen/model/fast_dropout.h"
#include "bachgen/runtime/torch_runtime.h"
#include "bachgen/train/grad_scaler.h"
#include "bachgen/train/loss.h"

namespace bachgen::train {
namespace {

// Two tokens over a vocabulary of 3; the second is padding.
struct Example {
  torch::Tensor logits = torch::tensor({1.0, 2.0, 0.5, 0.0, 0.0, 3.0}).view({1, 2, 3});
  torch::Tensor target = torch::tensor({1, 0}, torch::kInt64).view({1, 2});
  torch::Tensor mask = torch::tensor({1.0, 0.0}).view({1, 2});
};

// By hand: softmax of (1, 2, 0.5) and its logs.
double log_p(int k) {
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(0.5);
  const double x[3] = {1.0, 2.0, 0.5};
  return x[k] - std::log(z);
}

TEST(Loss, CrossEntropyIsTheMaskedMeanNll) {
  Example e;
  EXPECT_NEAR(masked_loss(e.logits, e.target, e.mask).item<double>(), -log_p(1), 1e-6);
  // Both tokens: the mean of the two.
  const double second = -(0.0 - std::log(2.0 + std::exp(3.0)));
  EXPECT_NEAR(masked_loss(e.logits, e.target, torch::ones({1, 2})).item<double>(), (-log_p(1) + second) / 2, 1e-6);
}

TEST(Loss, LabelSmoothingAndFocalTermMatchTheFormula) {
  Example e;
  const double eps = 0.1, nll = -log_p(1);
  const double smooth = (1 - eps) * nll - eps * (log_p(0) + log_p(1) + log_p(2)) / 3;
  EXPECT_NEAR(masked_loss(e.logits, e.target, e.mask, eps).item<double>(), smooth, 1e-6);
  const double p = std::exp(log_p(1));
  EXPECT_NEAR(masked_loss(e.logits, e.target, e.mask, 0.0, 2.0).item<double>(), std::pow(1 - p, 2.0) * nll, 1e-6);
  EXPECT_NEAR(masked_loss(e.logits, e.target, e.mask, eps, 0.5).item<double>(), std::pow(1 - p, 0.5) * smooth, 1e-6);
  // Gradients flow through the focal weight: d/dx of (1-p)^g * nll, checked against a finite
  // difference.
  torch::Tensor x = e.logits.clone().requires_grad_(true);
  masked_loss(x, e.target, e.mask, 0.0, 2.0).backward();
  const double h = 1e-3;
  torch::Tensor plus = e.logits.clone(), minus = e.logits.clone();
  plus[0][0][1] += h;
  minus[0][0][1] -= h;
  const double numeric = (masked_loss(plus.to(torch::kFloat64), e.target, e.mask, 0.0, 2.0).item<double>() -
                          masked_loss(minus.to(torch::kFloat64), e.target, e.mask, 0.0, 2.0).item<double>()) / (2 * h);
  EXPECT_NEAR(x.grad()[0][0][1].item<double>(), numeric, 1e-4);
}

TEST(GradScaler, ScalesUnscalesSkipsAndGrows) {
  GradScalerOptions o;
  o.init_scale = 8.0;
  o.growth_interval = 3;
  GradScaler scaler(true, o);
  torch::Tensor w = torch::ones({2}, torch::requires_grad());
  scaler.scale_loss((w * torch::tensor({1.0, 3.0})).sum()).backward();
  EXPECT_TRUE(torch::equal(w.grad(), torch::tensor({8.0, 24.0})));
  EXPECT_TRUE(scaler.unscale({w}));
  EXPECT_TRUE(torch::equal(w.grad(), torch::tensor({1.0, 3.0})));
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 8.0);
  scaler.update(true);  // the third good step in a row
  EXPECT_EQ(scaler.scale(), 16.0);
  // An inf gradient: not unscaled, the step is skipped and the scale halves.
  w.mutable_grad() = torch::tensor({1.0, std::numeric_limits<double>::infinity()}).to(torch::kFloat32);
  EXPECT_FALSE(scaler.unscale({w}));
  EXPECT_TRUE(std::isinf(w.grad()[1].item<float>()));
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 8.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
  EXPECT_EQ(scaler.good_steps(), 0);
  w.mutable_grad() = torch::tensor({std::nan(""), 0.0}).to(torch::kFloat32);
  EXPECT_FALSE(scaler.unscale({w}));
  // Disabled (fp32, bf16): a no-op with scale 1.
  GradScaler off(false);
  EXPECT_EQ(off.scale(), 1.0);
  EXPECT_TRUE(off.unscale({w}));
  // fp16 autocast exists only for CUDA.
  EXPECT_THROW(runtime::Autocast(true, /*cuda=*/false, /*fp16=*/true), std::invalid_argument);
}

TEST(FastDropout, DropsTheHashedElementsAndScalesTheRest) {
  const int64_t n = 100000;
  const double p = 0.25;
  torch::manual_seed(3);
  const torch::Tensor x = torch::ones({n}, torch::requires_grad());
  const torch::Tensor y = model::fast_dropout(x, p, /*training=*/true);
  // The same seed: the generator's next 64-bit draw after manual_seed(3).
  torch::manual_seed(3);
  uint64_t seed;
  {
    at::Generator g = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(g.mutex());
    seed = g.get<at::CPUGeneratorImpl>()->random64();
  }
  const std::vector<uint8_t> keep = model::dropout_keep_mask(seed, n, p);
  const auto ya = y.accessor<float, 1>();
  int64_t kept = 0, mismatches = 0;
  for (int64_t i = 0; i < n; ++i) {
    kept += keep[static_cast<size_t>(i)];
    mismatches += ya[i] != (keep[static_cast<size_t>(i)] ? 1.0f / 0.75f : 0.0f);
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_NEAR(static_cast<double>(kept) / n, 1 - p, 0.01);
  // The gradient is the same mask.
  y.sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), y.detach()));
  // Evaluation and p = 0 pass the input through; another thread count drops the same elements.
  EXPECT_TRUE(model::fast_dropout(x, p, false).is_same(x));
  EXPECT_TRUE(model::fast_dropout(x, 0.0, true).is_same(x));
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  torch::manual_seed(3);
  const torch::Tensor one_thread = model::fast_dropout(x.detach(), p, true);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one_thread, y.detach()));
  // bf16 inputs keep their dtype.
  EXPECT_EQ(model::fast_dropout(x.detach().to(torch::kBFloat16), p, true).scalar_type(), torch::kBFloat16);
}

}  // namespace
}  // namespace bachgen::train
