// The training loss.
#include "bachgen/train/loss.h"

namespace bachgen::train {

torch::Tensor masked_loss(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& mask,
                          double label_smoothing, double focal_gamma) {
  const int64_t v = logits.size(-1);
  const torch::Tensor flat = logits.reshape({-1, v});
  const torch::Tensor m = mask.reshape({-1}).to(flat.scalar_type());
  torch::Tensor per_token;
  if (focal_gamma <= 0.0) {
    per_token = torch::nn::functional::cross_entropy(
        flat, target.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone).label_smoothing(label_smoothing));
  } else {
    const torch::Tensor log_p = torch::log_softmax(flat, -1);                                 // (N, V)
    const torch::Tensor nll = -log_p.gather(-1, target.reshape({-1, 1})).squeeze(-1);         // (N)
    per_token = label_smoothing > 0 ? (1.0 - label_smoothing) * nll - label_smoothing * log_p.mean(-1) : nll;
    per_token = per_token * (1.0 - torch::exp(-nll)).clamp_min(0.0).pow(focal_gamma);
  }
  return (per_token * m).sum() / m.sum().clamp_min(1.0);
}

}  // namespace bachgen::train
