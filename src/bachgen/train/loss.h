// The training loss: masked mean cross-entropy in nats, with label smoothing and an optional
// focal term (Lin et al. 2017). docs/training.md gives the formula.
#pragma once

#include <torch/torch.h>

namespace bachgen::train {

// logits (B, T, V), target (B, T) int64, mask (B, T) float (1 = a real target). Per token:
// ce = (1 - eps) * (-log p_target) + eps * mean_v(-log p_v); with gamma > 0 it is multiplied by
// (1 - p_target)^gamma (gradients flow through both factors). Returns sum(mask * loss) /
// max(1, sum(mask)), computed in fp32 or wider.
torch::Tensor masked_loss(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& mask,
                          double label_smoothing = 0.0, double focal_gamma = 0.0);

}  // namespace bachgen::train
