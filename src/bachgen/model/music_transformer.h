// The Music Transformer: a decoder-only, causal stack of pre-LayerNorm blocks with relative
// self-attention (docs/model.md gives the exact math).
#pragma once

#include <torch/torch.h>

#include <array>
#include <string>

#include "bachgen/model/relative_attention.h"
#include "bachgen/model/sequence_model.h"

namespace bachgen::model {

struct TransformerConfig {
  int64_t vocab_size = 50;
  int64_t d_model = 256;          // embedding and residual width
  int64_t layers = 4;             // pre-LN blocks
  int64_t heads = 8;
  int64_t d_ff = 1024;            // feed-forward hidden width
  int64_t max_relative = 512;     // learned relative distances (farther ones clip)
  bool relative = true;           // relative attention; false: plain attention
  bool absolute_positions = false;  // add sinusoidal absolute positions
  int64_t voice_period = 0;       // > 0: add a learned embedding of voice = (position - 1) mod P
  int64_t beat_steps = 0;         // > 0 (with voice_period): add a learned embedding of the
                                  // step's 16th within the beat, floor((position - 1) / P) mod B
  bool conditions = false;        // (with voice_period) add learned embeddings of the piece's
                                  // bar position, steps to the end and key (tokenize/conditions.h)
  bool tie_embeddings = true;     // output projection shares the token embedding
  double dropout = 0.1;
  bool causal = true;             // false: bidirectional attention (the conditioning model)
};

class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const TransformerConfig& c);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor step(const torch::Tensor& x, torch::Tensor& keys, torch::Tensor& values, int64_t length);
  RelativeSelfAttention attention{nullptr};

 private:
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear ff1_{nullptr}, ff2_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(TransformerBlock);

class MusicTransformerImpl : public SequenceModelImpl {
 public:
  explicit MusicTransformerImpl(const TransformerConfig& config);

  torch::Tensor forward(const torch::Tensor& tokens,
                        const torch::Tensor& offset = torch::Tensor(),
                        const torch::Tensor& conditions = torch::Tensor()) override;
  torch::Tensor step(const torch::Tensor& tokens, DecodeState& state) override;
  int64_t vocab_size() const override { return config_.vocab_size; }
  ModelKind kind() const override { return ModelKind::kMusicTransformer; }

  const TransformerConfig& config() const { return config_; }
  std::vector<TransformerBlock>& blocks() { return blocks_; }
  // Forward multiply-adds per token at sequence length T (2x for FLOPs), for the preset table.
  double macs_per_token(int64_t sequence_length) const;

 private:
  // Embeddings of tokens (B, T) at absolute positions (B, T).
  torch::Tensor embed(const torch::Tensor& tokens, const torch::Tensor& positions,
                      const torch::Tensor& conditions);
  torch::Tensor head(const torch::Tensor& x);

  TransformerConfig config_;
  torch::nn::Embedding token_embedding_{nullptr};
  torch::nn::Embedding voice_embedding_{nullptr};
  torch::nn::Embedding beat_embedding_{nullptr};
  torch::nn::Embedding bar_embedding_{nullptr}, end_embedding_{nullptr}, key_embedding_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  std::vector<TransformerBlock> blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Linear output_{nullptr};  // only when embeddings are not tied
};

// The condition embeddings' indices (bar, end, key) over tensors: tokenize::bar_index, end_index
// and key_index for the 16th steps (B, T) of rows whose conditions (B, 4) are PieceConditions
// (steps_per_bar, bar_phase, steps, key); undefined conditions = all unknown (index 0). Shared
// by both models that take conditions.
std::array<torch::Tensor, 3> condition_indices(const torch::Tensor& steps, const torch::Tensor& conditions);

}  // namespace bachgen::model
