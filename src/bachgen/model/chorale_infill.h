// The conditioning model behind `bachgen harmonize` and `bachgen infill`: a bidirectional
// transformer over the SATB grid that predicts every unknown voice at every 16th step from
// everything known, before and after it (an orderless, Coconet-style model; docs/model.md).
//
// It speaks the satb16 tokens: a row is whole steps S A T B S A T B ... (no BOS), PAD marks an
// unknown variable (to be predicted) and EOS marks steps past the end of a shorter row. The
// output has one distribution per variable: logits (B, 4S, V) for tokens (B, 4S).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "bachgen/model/music_transformer.h"
#include "bachgen/model/sequence_model.h"

namespace bachgen::model {

class ChoraleInfillImpl : public SequenceModelImpl {
 public:
  // Uses d_model, layers, heads, d_ff, dropout and vocab_size of the config; attention is
  // bidirectional. Positions: sinusoids of the step when absolute_positions, relative
  // attention over steps (max_relative each way) when relative, and always a learned
  // 16th-in-bar table (of 4/4). With conditions: learned embeddings of the piece's bar position,
  // steps to the end and key at every step, as the composer's (tokenize/conditions.h).
  explicit ChoraleInfillImpl(const TransformerConfig& config);

  // tokens (B, 4S) -> logits (B, 4S, V). `offset` (B), optional: each row's first token's
  // position in its piece (a multiple of 4), so that steps keep their place in the bar.
  // `conditions` (B, 4), optional: each row's PieceConditions (unknown when absent; ignored
  // by a model without conditions).
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& offset = torch::Tensor(),
                        const torch::Tensor& conditions = torch::Tensor()) override;
  // Not an autoregressive model: throws std::logic_error.
  torch::Tensor step(const torch::Tensor& tokens, DecodeState& state) override;
  int64_t vocab_size() const override { return config_.vocab_size; }
  ModelKind kind() const override { return ModelKind::kChoraleInfill; }

  const TransformerConfig& config() const { return config_; }
  // Forward multiply-adds per variable (a quarter of a step) at S steps.
  double macs_per_token(int64_t steps) const;

 private:
  TransformerConfig config_;
  torch::nn::Embedding variable_embedding_{nullptr};  // (4 V, D): voice v, token x at row v V + x
  torch::nn::Embedding beat_embedding_{nullptr};      // (16, D): the step's 16th within a 4/4 bar
  torch::nn::Embedding bar_embedding_{nullptr}, end_embedding_{nullptr}, key_embedding_{nullptr};  // conditions
  torch::nn::Dropout dropout_{nullptr};
  std::vector<TransformerBlock> blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Linear output_{nullptr};                 // D -> 4 V
};

}  // namespace bachgen::model
