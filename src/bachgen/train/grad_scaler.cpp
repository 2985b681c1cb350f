// Dynamic loss scaling.
#include "bachgen/train/grad_scaler.h"

namespace bachgen::train {

GradScaler::GradScaler(bool enabled, GradScalerOptions options)
    : enabled_(enabled), options_(options), scale_(options.init_scale) {}

torch::Tensor GradScaler::scale_loss(const torch::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool GradScaler::unscale(const std::vector<torch::Tensor>& parameters) {
  if (!enabled_) return true;
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : parameters) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return true;
  // One reduction (and one device sync) for all gradients: an inf or NaN entry makes the sum
  // non-finite (so would an overflow of the sum itself, which also calls for a smaller scale).
  torch::Tensor total = torch::zeros({}, grads.front().options().dtype(torch::kFloat32));
  for (const torch::Tensor& g : grads) total = total + g.to(torch::kFloat32).sum();
  if (!std::isfinite(total.item<double>())) return false;
  torch::NoGradGuard no_grad;
  for (torch::Tensor& g : grads) g.mul_(1.0 / scale_);
  return true;
}

void GradScaler::update(bool finite) {
  if (!enabled_) return;
  if (!finite) {
    scale_ *= options_.backoff_factor;
    good_steps_ = 0;
    ++skipped_steps_;
    return;
  }
  if (++good_steps_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    good_steps_ = 0;
  }
}

void GradScaler::restore(double scale, int64_t good_steps, int64_t skipped_steps) {
  scale_ = scale;
  good_steps_ = good_steps;
  skipped_steps_ = skipped_steps;
}

}  // namespace bachgen::train
