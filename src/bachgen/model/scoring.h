// Scoring a token sequence with a model: the log-probability of every token given those before
// it (teacher forcing, one forward over the whole sequence).
#pragma once

#include <cstdint>
#include <vector>

#include "bachgen/model/sequence_model.h"

namespace bachgen::model {

struct TokenScores {
  std::vector<int32_t> tokens;
  std::vector<double> log_probs;  // log_probs[i] = log p(tokens[i + 1] | tokens[0..i]), in nats
  double nll() const;             // -sum(log_probs)
  double nll_per_token() const;   // nll() / log_probs.size()
};

TokenScores score_tokens(SequenceModelImpl& model, const std::vector<int32_t>& tokens);

}  // namespace bachgen::model
