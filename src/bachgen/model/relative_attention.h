// Multi-head self-attention with learned relative position embeddings (Huang et al. 2018,
// "Music Transformer"). Relative logits come from Q . Er^T and the "skew" procedure, so the
// relative part needs O(L . D) memory, never an L x L x D tensor. One table of relative
// embeddings per layer, shared by its heads; distances beyond max_relative use the farthest one.
// Causal (distances -(M-1) .. 0) or bidirectional (distances -(M-1) .. M-1: the conditioning
// model, which sees the music after a note as well as before it).
#pragma once

#include <torch/torch.h>

namespace bachgen::model {

struct AttentionOptions {
  int64_t d_model = 256;
  int64_t heads = 8;
  int64_t max_relative = 512;  // learned distances 0 .. max_relative - 1 (each way when not
                               // causal); farther ones clip
  bool relative = true;        // false: plain scaled dot-product attention
  double dropout = 0.1;        // on the attention weights
  bool causal = true;          // false: every position sees every other
};

// A Linear layer applied to x (..., in). When x holds one row (batch-1 decoding), it runs as a
// matrix-vector product: BLAS gemv reads the weights once, where gemm would first copy
// (pack) the whole weight matrix for a single row, which made decoding several times slower.
torch::Tensor linear_rows(const torch::nn::Linear& layer, const torch::Tensor& x);

class RelativeSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit RelativeSelfAttentionImpl(const AttentionOptions& options);

  // x (B, T, D) -> (B, T, D), causal unless options.causal is false.
  torch::Tensor forward(const torch::Tensor& x);
  // The textbook O(L^2 D) relative attention (gathers an L x L x head_dim tensor of
  // embeddings): the reference the tests compare forward() with.
  torch::Tensor forward_naive(const torch::Tensor& x);
  // One new position (causal only): x (B, 1, D) at position `length`, keys and values appended to the cache
  // (grown by doubling). Returns (B, 1, D).
  torch::Tensor step(const torch::Tensor& x, torch::Tensor& key_cache, torch::Tensor& value_cache,
                     int64_t length);

  // The relative embeddings for distances -(T-1) .. 0, (T, head_dim), or when not causal
  // -(T-1) .. T-1, (2T-1, head_dim), clipping the farthest.
  torch::Tensor relative_table(int64_t length) const;

  // Introspection: when set, forward() keeps its attention weights (B, H, T, T) here.
  bool capture_weights = false;
  torch::Tensor last_weights;

  const AttentionOptions& options() const { return options_; }

 private:
  torch::Tensor split_heads(const torch::Tensor& x) const;  // (B, T, D) -> (B, H, T, dh)
  torch::Tensor attend(const torch::Tensor& logits, const torch::Tensor& v);

  AttentionOptions options_;
  int64_t head_dim_;
  torch::nn::Linear qkv_{nullptr};
  torch::nn::Linear out_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  // Causal: (M, head_dim), row m is distance m - (M - 1). Not causal: (2M - 1, head_dim), the
  // same rows and then distances 1 .. M - 1.
  torch::Tensor relative_;
};
TORCH_MODULE(RelativeSelfAttention);

}  // namespace bachgen::model
