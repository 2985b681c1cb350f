// LSTM baseline.
#include "bachgen/model/music_lstm.h"

#include "bachgen/model/fast_dropout.h"

namespace bachgen::model {

MusicLstmImpl::MusicLstmImpl(const LstmConfig& config) : config_(config) {
  TORCH_CHECK(config.vocab_size > 0 && config.layers > 0, "invalid LSTM config");
  embedding_ = register_module("embedding", torch::nn::Embedding(config.vocab_size, config.d_embed));
  lstm_ = register_module(
      "lstm", torch::nn::LSTM(torch::nn::LSTMOptions(config.d_embed, config.hidden)
                                  .num_layers(config.layers)
                                  .batch_first(true)
                                  .dropout(config.layers > 1 ? config.dropout : 0.0)));
  dropout_ = register_module("dropout", torch::nn::Dropout(config.dropout));
  output_ = register_module("output", torch::nn::Linear(config.hidden, config.vocab_size));
}

torch::Tensor MusicLstmImpl::forward(const torch::Tensor& tokens, const torch::Tensor&) {
  const auto out = lstm_->forward(embedding_(tokens));  // (B, T, hidden)
  return output_(apply_dropout(dropout_, std::get<0>(out)));             // (B, T, V)
}

torch::Tensor MusicLstmImpl::step(const torch::Tensor& tokens, DecodeState& state) {
  const int64_t b = tokens.size(0);
  if (!state.h.defined()) {
    state.h = torch::zeros({config_.layers, b, config_.hidden}, embedding_->weight.options());
    state.c = torch::zeros_like(state.h);
  }
  auto out = lstm_->forward(embedding_(tokens), std::make_tuple(state.h, state.c));  // (B, 1, hidden)
  state.h = std::get<0>(std::get<1>(out));
  state.c = std::get<1>(std::get<1>(out));
  ++state.length;
  return output_(apply_dropout(dropout_, std::get<0>(out))).squeeze(1);  // (B, V)
}

double MusicLstmImpl::macs_per_token() const {
  const double gates = 4.0 * config_.hidden;
  double macs = gates * (config_.d_embed + config_.hidden);
  macs += (config_.layers - 1) * gates * (2.0 * config_.hidden);
  return macs + static_cast<double>(config_.hidden) * config_.vocab_size;
}

}  // namespace bachgen::model
