// Dynamic loss scaling for fp16 training (on CUDA): the loss is multiplied by `scale` before
// backward so that small gradients survive float16; before the optimizer step the gradients
// are divided by it again. A step whose gradients hold an inf or NaN is skipped and the scale
// halves; after `growth_interval` good steps in a row it doubles. The state goes into
// checkpoints. docs/training.md.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace bachgen::train {

struct GradScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class GradScaler {
 public:
  explicit GradScaler(bool enabled, GradScalerOptions options = {});

  bool enabled() const { return enabled_; }
  double scale() const { return enabled_ ? scale_ : 1.0; }
  // The loss to call backward on: loss * scale.
  torch::Tensor scale_loss(const torch::Tensor& loss) const;
  // Divides every gradient by the scale, in place. Returns false (and changes nothing else)
  // when a gradient is not finite: the caller skips the optimizer step, then calls update().
  bool unscale(const std::vector<torch::Tensor>& parameters);
  // After each step: halve the scale after a non-finite step, double it after
  // `growth_interval` finite ones in a row.
  void update(bool finite);

  int64_t good_steps() const { return good_steps_; }
  int64_t skipped_steps() const { return skipped_steps_; }
  void restore(double scale, int64_t good_steps, int64_t skipped_steps);

 private:
  bool enabled_;
  GradScalerOptions options_;
  double scale_;
  int64_t good_steps_ = 0;
  int64_t skipped_steps_ = 0;
};

}  // namespace bachgen::train
