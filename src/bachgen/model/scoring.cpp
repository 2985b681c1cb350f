// Teacher-forced scoring.
#include "bachgen/model/scoring.h"

namespace bachgen::model {

double TokenScores::nll() const {
  double s = 0;
  for (double lp : log_probs) s -= lp;
  return s;
}

double TokenScores::nll_per_token() const {
  return log_probs.empty() ? 0.0 : nll() / static_cast<double>(log_probs.size());
}

TokenScores score_tokens(SequenceModelImpl& model, const std::vector<int32_t>& tokens) {
  TokenScores out;
  out.tokens = tokens;
  if (tokens.size() < 2) return out;
  torch::NoGradGuard no_grad;
  model.eval();
  const int64_t n = static_cast<int64_t>(tokens.size());
  const torch::Tensor ids = torch::tensor(std::vector<int64_t>(tokens.begin(), tokens.end()),
                                          torch::kInt64).view({1, n});                // (1, T)
  using torch::indexing::Slice;
  const torch::Tensor logits = model.forward(ids.index({Slice(), Slice(0, n - 1)}));   // (1, T-1, V)
  const torch::Tensor log_probs = torch::log_softmax(logits.to(torch::kFloat64), -1);  // (1, T-1, V)
  const torch::Tensor picked =
      log_probs.gather(-1, ids.index({Slice(), Slice(1, n)}).unsqueeze(-1)).view({n - 1});  // (T-1)
  const auto a = picked.accessor<double, 1>();
  for (int64_t i = 0; i < n - 1; ++i) out.log_probs.push_back(a[i]);
  return out;
}

}  // namespace bachgen::model
