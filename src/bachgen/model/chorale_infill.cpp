// The conditioning model: grid embedding, bidirectional blocks, one head per voice.
#include "bachgen/model/chorale_infill.h"

#include <cmath>
#include <stdexcept>

#include "bachgen/model/fast_dropout.h"
#include "bachgen/tokenize/conditions.h"

namespace bachgen::model {

namespace {

constexpr int64_t kVoices = 4;
constexpr int64_t kStepsPerBar = 16;

// Files from before relative attention say relative false, absolute_positions true: those
// two are the file's; the rest is what this model always is.
TransformerConfig bidirectional(TransformerConfig c) {
  c.causal = false;
  c.voice_period = kVoices;
  c.tie_embeddings = false;
  c.beat_steps = 0;
  return c;
}

}  // namespace

ChoraleInfillImpl::ChoraleInfillImpl(const TransformerConfig& config) : config_(bidirectional(config)) {
  TORCH_CHECK(config_.vocab_size > 0 && config_.layers > 0, "invalid conditioning-model config");
  variable_embedding_ = register_module("variable_embedding", torch::nn::Embedding(kVoices * config_.vocab_size, config_.d_model));
  beat_embedding_ = register_module("beat_embedding", torch::nn::Embedding(kStepsPerBar, config_.d_model));
  {
    // Four variables add up per step: N(0, 1/(4D)) each keeps the sum at the scale of one.
    torch::NoGradGuard no_grad;
    variable_embedding_->weight.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(kVoices * config_.d_model)));
    beat_embedding_->weight.normal_(0.0, 0.02);
  }
  if (config_.conditions) {
    // N(0, 1) as the composer's (music_transformer.cpp says why).
    bar_embedding_ = register_module("bar_embedding", torch::nn::Embedding(tokenize::kBarIndices, config_.d_model));
    end_embedding_ = register_module("end_embedding", torch::nn::Embedding(tokenize::kEndIndices, config_.d_model));
    key_embedding_ = register_module("key_embedding", torch::nn::Embedding(tokenize::kKeyIndices, config_.d_model));
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(config_.dropout));
  for (int64_t i = 0; i < config_.layers; ++i) {
    blocks_.push_back(register_module("block" + std::to_string(i), TransformerBlock(config_)));
  }
  final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config_.d_model})));
  output_ = register_module("output", torch::nn::Linear(config_.d_model, kVoices * config_.vocab_size));
}

torch::Tensor ChoraleInfillImpl::forward(const torch::Tensor& tokens, const torch::Tensor& offset, const torch::Tensor& conditions) {
  TORCH_CHECK(tokens.dim() == 2 && tokens.size(1) % kVoices == 0,
              "the conditioning model reads whole steps: (B, 4S) tokens, got ", tokens.sizes());
  const int64_t b = tokens.size(0), steps = tokens.size(1) / kVoices, d = config_.d_model, v = config_.vocab_size;
  const torch::Tensor voice = torch::arange(kVoices, tokens.options()) * v;                     // (4)
  const torch::Tensor ids = tokens.view({b, steps, kVoices}) + voice;                           // (B, S, 4)
  torch::Tensor x = variable_embedding_(ids).sum(2) * std::sqrt(static_cast<double>(d));       // (B, S, D)
  torch::Tensor step = torch::arange(steps, tokens.options()).unsqueeze(0).expand({b, steps});  // (B, S)
  if (offset.defined()) step = step + offset.to(tokens.device()).view({b, 1}).div(kVoices, "floor");
  if (config_.absolute_positions) {
    const torch::Tensor i = torch::arange(0, d, 2, x.options());
    const torch::Tensor freq = torch::exp(i * (-std::log(10000.0) / static_cast<double>(d)));  // (D/2)
    const torch::Tensor angle = step.to(x.scalar_type()).unsqueeze(-1) * freq;                  // (B, S, D/2)
    x = x + torch::stack({torch::sin(angle), torch::cos(angle)}, -1).flatten(-2);
  }
  x = x + beat_embedding_(step.remainder(kStepsPerBar));
  if (config_.conditions) {
    const auto [bar, end, key] = condition_indices(step, conditions);
    x = x + bar_embedding_(bar) + end_embedding_(end) + key_embedding_(key);
  }
  x = apply_dropout(dropout_, x);
  for (TransformerBlock& block : blocks_) x = block(x);
  return output_(final_norm_(x)).view({b, steps * kVoices, v});  // (B, 4S, V): voice-major per step
}

torch::Tensor ChoraleInfillImpl::step(const torch::Tensor&, DecodeState&) {
  throw std::logic_error(
      "the conditioning model (chorale-infill) is not autoregressive: use it with bachgen harmonize or infill");
}

double ChoraleInfillImpl::macs_per_token(int64_t steps) const {
  const double d = static_cast<double>(config_.d_model);
  const double attention = (config_.relative ? 4.0 : 2.0) * d * static_cast<double>(steps);  // QK, AV (and Q Er, both ways)
  const double per_step_layer = 4 * d * d + 2 * d * config_.d_ff + attention;
  const double per_step = per_step_layer * static_cast<double>(config_.layers) + d * kVoices * config_.vocab_size;
  return per_step / kVoices;
}

}  // namespace bachgen::model
