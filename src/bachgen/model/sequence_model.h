// The interface every bachgen language model shares: token ids (B, T) in, logits (B, T, V) out,
// and an incremental step with an explicit state for generation.
#pragma once

#include <torch/torch.h>

#include <string>

#include "bachgen/model/model_kind.h"
#include <vector>

namespace bachgen::model {

// What a model carries from one generation step to the next.
struct DecodeState {
  std::vector<torch::Tensor> keys;    // transformer: per layer (B, H, capacity, head_dim)
  std::vector<torch::Tensor> values;  // idem
  torch::Tensor h, c;                 // LSTM: (layers, B, hidden)
  int64_t length = 0;                 // tokens consumed so far (the next token's position)
  int64_t offset = 0;                 // absolute position of the first token consumed
  torch::Tensor conditions;           // (B, 4) int64, optional: what the piece is (below)
};

class SequenceModelImpl : public torch::nn::Module {
 public:
  // tokens (B, T) int64 -> logits (B, T, V). `offset` (B) int64, optional: where each row
  // starts in its piece (absolute positions; 0 when undefined). `conditions` (B, 4) int64,
  // optional: each row's piece as tokenize::PieceConditions (steps_per_bar, bar_phase, steps,
  // key; data::conditions_tensor), read by models with conditions on; undefined = unknown.
  virtual torch::Tensor forward(const torch::Tensor& tokens,
                                const torch::Tensor& offset = torch::Tensor(),
                                const torch::Tensor& conditions = torch::Tensor()) = 0;
  // tokens (B, 1) -> logits (B, V) for the next position, updating `state`. A fresh state
  // (length 0) starts a sequence at position state.offset.
  virtual torch::Tensor step(const torch::Tensor& tokens, DecodeState& state) = 0;
  virtual int64_t vocab_size() const = 0;
  virtual ModelKind kind() const = 0;
  virtual int64_t parameter_count() const;
};

using SequenceModel = std::shared_ptr<SequenceModelImpl>;

}  // namespace bachgen::model
