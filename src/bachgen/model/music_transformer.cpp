// Music Transformer: embeddings, pre-LN blocks, and the cached step.
#include "bachgen/model/music_transformer.h"

#include "bachgen/model/fast_dropout.h"
#include "bachgen/tokenize/conditions.h"

#include <array>
#include <cmath>

namespace bachgen::model {

int64_t SequenceModelImpl::parameter_count() const {
  int64_t n = 0;
  for (const torch::Tensor& p : parameters()) n += p.numel();
  return n;
}

TransformerBlockImpl::TransformerBlockImpl(const TransformerConfig& c) {
  AttentionOptions a;
  a.d_model = c.d_model;
  a.heads = c.heads;
  a.max_relative = c.max_relative;
  a.relative = c.relative;
  a.dropout = c.dropout;
  a.causal = c.causal;
  norm1_ = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  attention = register_module("attention", RelativeSelfAttention(a));
  norm2_ = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  ff1_ = register_module("ff1", torch::nn::Linear(c.d_model, c.d_ff));
  ff2_ = register_module("ff2", torch::nn::Linear(c.d_ff, c.d_model));
  dropout_ = register_module("dropout", torch::nn::Dropout(c.dropout));
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x + apply_dropout(dropout_, attention(norm1_(x)));                     // (B, T, D)
  return h + apply_dropout(dropout_, ff2_(torch::gelu(ff1_(norm2_(h)))));                  // (B, T, D)
}

torch::Tensor TransformerBlockImpl::step(const torch::Tensor& x, torch::Tensor& keys,
                                         torch::Tensor& values, int64_t length) {
  torch::Tensor h = x + apply_dropout(dropout_, attention->step(norm1_(x), keys, values, length));  // (B, 1, D)
  return h + apply_dropout(dropout_, linear_rows(ff2_, torch::gelu(linear_rows(ff1_, norm2_(h)))));
}

MusicTransformerImpl::MusicTransformerImpl(const TransformerConfig& config) : config_(config) {
  TORCH_CHECK(config.vocab_size > 0 && config.layers > 0, "invalid transformer config");
  token_embedding_ = register_module("token_embedding", torch::nn::Embedding(config.vocab_size, config.d_model));
  {
    // N(0, 1/D): the input (scaled by sqrt(D)) has unit-variance features, and the tied output
    // starts with logits of unit scale instead of sqrt(D).
    torch::NoGradGuard no_grad;
    token_embedding_->weight.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(config.d_model)));
  }
  if (config.voice_period > 0) {
    voice_embedding_ = register_module("voice_embedding", torch::nn::Embedding(config.voice_period, config.d_model));
  }
  if (config.beat_steps > 0) {
    TORCH_CHECK(config.voice_period > 0, "a beat embedding needs the voice period (the tokens per 16th step)");
    beat_embedding_ = register_module("beat_embedding", torch::nn::Embedding(config.beat_steps, config.d_model));
  }
  if (config.conditions) {
    TORCH_CHECK(config.voice_period > 0, "conditions need the voice period (the tokens per 16th step)");
    bar_embedding_ = register_module("bar_embedding", torch::nn::Embedding(tokenize::kBarIndices, config.d_model));
    end_embedding_ = register_module("end_embedding", torch::nn::Embedding(tokenize::kEndIndices, config.d_model));
    key_embedding_ = register_module("key_embedding", torch::nn::Embedding(tokenize::kKeyIndices, config.d_model));
    // N(0, 1), LibTorch's default and the scale of the voice and beat embeddings beside them (the
    // token embedding is N(0, 1/D) times sqrt(D)). compose1 began them at N(0, 0.02): after 3,600
    // steps the key rows had grown only to rms 0.06 and the key told changed nothing the model
    // wrote (docs/results.md).
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(config.dropout));
  for (int64_t i = 0; i < config.layers; ++i) {
    blocks_.push_back(register_module("block" + std::to_string(i), TransformerBlock(config)));
  }
  final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.d_model})));
  if (!config.tie_embeddings) {
    output_ = register_module("output", torch::nn::Linear(config.d_model, config.vocab_size));
  }
}

// tokenize::bar_index, end_index and key_index over tensors: steps (B, T), conditions (B, 4)
// -> three (B, T) index tensors. tests/test_model.cpp holds them to the scalar functions.
std::array<torch::Tensor, 3> condition_indices(const torch::Tensor& steps, const torch::Tensor& conditions) {
  if (!conditions.defined()) {  // nothing known: index 0 of every table
    const torch::Tensor unknown = torch::zeros_like(steps);
    return {unknown, unknown, unknown};
  }
  const torch::Tensor c = conditions.to(steps.device(), torch::kInt64);
  const torch::Tensor spb = c.select(1, 0).unsqueeze(1), phase = c.select(1, 1).unsqueeze(1);
  const torch::Tensor total = c.select(1, 2).unsqueeze(1), key = c.select(1, 3).unsqueeze(1);
  const torch::Tensor zero = torch::zeros_like(steps);
  const torch::Tensor in_bar = steps + phase;
  torch::Tensor bar = torch::where(spb == 16, 1 + in_bar.remainder(16), torch::where(spb == 12, 17 + in_bar.remainder(12), zero));
  const torch::Tensor r = (total - 1 - steps).clamp_min(0);
  const torch::Tensor far = 65 + torch::div(r - 64, 32, "floor").clamp(0, 6);
  torch::Tensor end = torch::where(total <= 0, zero, torch::where(r < 64, 1 + r, far));
  torch::Tensor k = torch::where((key >= 0).logical_and(key < 24), 1 + key, torch::zeros_like(key)).expand_as(steps);
  return {bar, end, k};
}

torch::Tensor MusicTransformerImpl::embed(const torch::Tensor& tokens, const torch::Tensor& positions,
                                          const torch::Tensor& conditions) {
  torch::Tensor x = token_embedding_(tokens) * std::sqrt(static_cast<double>(config_.d_model));  // (B, T, D)
  if (config_.voice_period > 0) {
    // The BOS sits at position 0, so the first voice (soprano) is at position 1.
    x = x + voice_embedding_((positions - 1).remainder(config_.voice_period));
  }
  // The 16th step of a token is floor((position - 1) / P): the BOS is step -1, the last 16th
  // of a beat; a composition's first step is on a beat.
  torch::Tensor steps;  // (B, T)
  if (config_.beat_steps > 0 || config_.conditions) steps = torch::div(positions - 1, config_.voice_period, "floor");
  if (config_.beat_steps > 0) x = x + beat_embedding_(steps.remainder(config_.beat_steps));
  if (config_.conditions) {
    const auto [bar, end, key] = condition_indices(steps, conditions);
    x = x + bar_embedding_(bar) + end_embedding_(end) + key_embedding_(key);
  }
  if (config_.absolute_positions) {
    // Sinusoids of Vaswani et al.: dimension 2i sin(pos / 10000^(2i/D)), 2i+1 cos.
    const int64_t d = config_.d_model;
    const torch::Tensor i = torch::arange(0, d, 2, x.options());                       // (D/2)
    const torch::Tensor freq = torch::exp(i * (-std::log(10000.0) / d));               // (D/2)
    const torch::Tensor angle = positions.to(x.scalar_type()).unsqueeze(-1) * freq;     // (B, T, D/2)
    x = x + torch::stack({torch::sin(angle), torch::cos(angle)}, /*dim=*/-1).flatten(-2);  // (B, T, D)
  }
  return apply_dropout(dropout_, x);
}

torch::Tensor MusicTransformerImpl::head(const torch::Tensor& x) {
  const torch::Tensor h = final_norm_(x);
  if (!config_.tie_embeddings) return linear_rows(output_, h);
  if (h.numel() == config_.d_model && h.scalar_type() == token_embedding_->weight.scalar_type()) {  // one row: gemv
    std::vector<int64_t> shape = h.sizes().vec();
    shape.back() = config_.vocab_size;
    return torch::mv(token_embedding_->weight, h.reshape({config_.d_model})).view(shape);
  }
  return torch::matmul(h, token_embedding_->weight.t());
}

torch::Tensor MusicTransformerImpl::forward(const torch::Tensor& tokens, const torch::Tensor& offset,
                                            const torch::Tensor& conditions) {
  const int64_t b = tokens.size(0), t = tokens.size(1);
  torch::Tensor positions = torch::arange(t, tokens.options()).unsqueeze(0).expand({b, t});  // (B, T)
  if (offset.defined()) positions = positions + offset.to(tokens.device()).view({b, 1});
  torch::Tensor x = embed(tokens, positions, conditions);
  for (TransformerBlock& block : blocks_) x = block(x);
  return head(x);  // (B, T, V)
}

torch::Tensor MusicTransformerImpl::step(const torch::Tensor& tokens, DecodeState& state) {
  const int64_t b = tokens.size(0);
  if (state.keys.size() != blocks_.size()) {
    state.keys.assign(blocks_.size(), torch::Tensor());
    state.values.assign(blocks_.size(), torch::Tensor());
  }
  const torch::Tensor positions =
      torch::full({b, 1}, state.offset + state.length, tokens.options());
  torch::Tensor x = embed(tokens, positions, state.conditions);  // (B, 1, D)
  for (size_t i = 0; i < blocks_.size(); ++i) {
    x = blocks_[i]->step(x, state.keys[i], state.values[i], state.length);
  }
  ++state.length;
  return head(x).squeeze(1);  // (B, V)
}

double MusicTransformerImpl::macs_per_token(int64_t t) const {
  const double d = static_cast<double>(config_.d_model);
  const double per_layer = 4 * d * d                       // q, k, v, out projections
                           + 2 * d * config_.d_ff          // feed-forward
                           + 2 * d * t / 2.0               // QK^T and AV over T/2 keys on average
                           + (config_.relative ? d * t : 0.0);  // q . Er^T over T distances
  return per_layer * static_cast<double>(config_.layers) + d * config_.vocab_size;
}

}  // namespace bachgen::model
