// LSTM baseline.
#include "bachgen/model/music_lstm.h"

#include "bachgen/model/fast_dropout.h"
#include "bachgen/model/relative_attention.h"

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

torch::Tensor MusicLstmImpl::forward(const torch::Tensor& tokens, const torch::Tensor&, const torch::Tensor&) {
  const auto out = lstm_->forward(embedding_(tokens));  // (B, T, hidden)
  return output_(apply_dropout(dropout_, std::get<0>(out)));             // (B, T, V)
}

torch::Tensor MusicLstmImpl::step(const torch::Tensor& tokens, DecodeState& state) {
  const int64_t b = tokens.size(0);
  if (!state.h.defined()) {
    state.h = torch::zeros({config_.layers, b, config_.hidden}, embedding_->weight.options());
    state.c = torch::zeros_like(state.h);
  }
  if (b == 1 && !is_training() && embedding_->weight.scalar_type() == torch::kFloat32) return step_one_row(tokens, state);
  auto out = lstm_->forward(embedding_(tokens), std::make_tuple(state.h, state.c));  // (B, 1, hidden)
  state.h = std::get<0>(std::get<1>(out));
  state.c = std::get<1>(std::get<1>(out));
  ++state.length;
  return output_(apply_dropout(dropout_, std::get<0>(out))).squeeze(1);  // (B, V)
}

// One row, in inference: the same cell as torch::nn::LSTM (gates i, f, g, o; c' = f c + i g,
// h' = o tanh(c')), each layer's two products as matrix-vector products. torch::nn::LSTM
// treats one row as a 1-row matrix product, for which OpenBLAS packs the whole weight matrix
// on every call: half of the time of a token went into that packing.
torch::Tensor MusicLstmImpl::step_one_row(const torch::Tensor& tokens, DecodeState& state) {
  const int64_t hidden = config_.hidden;
  torch::Tensor x = embedding_->weight[tokens.reshape({}).item<int64_t>()];  // (E)
  const auto params = lstm_->named_parameters(/*recurse=*/false);
  torch::Tensor h_all = state.h.clone(), c_all = state.c.clone();  // (layers, 1, hidden)
  for (int64_t layer = 0; layer < config_.layers; ++layer) {
    const std::string k = std::to_string(layer);
    const torch::Tensor h = state.h[layer][0], c = state.c[layer][0];  // (hidden)
    torch::Tensor gates = torch::addmv(params["bias_ih_l" + k], params["weight_ih_l" + k], x);  // (4 hidden)
    gates.addmv_(params["weight_hh_l" + k], h).add_(params["bias_hh_l" + k]);
    const std::vector<torch::Tensor> g = gates.split(hidden);
    const torch::Tensor c_next = torch::sigmoid(g[1]) * c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
    const torch::Tensor h_next = torch::sigmoid(g[3]) * torch::tanh(c_next);
    h_all[layer][0].copy_(h_next);
    c_all[layer][0].copy_(c_next);
    x = h_next;
  }
  state.h = h_all;
  state.c = c_all;
  ++state.length;
  return linear_rows(output_, x.view({1, hidden}));  // (1, V)
}

double MusicLstmImpl::macs_per_token() const {
  const double gates = 4.0 * config_.hidden;
  double macs = gates * (config_.d_embed + config_.hidden);
  macs += (config_.layers - 1) * gates * (2.0 * config_.hidden);
  return macs + static_cast<double>(config_.hidden) * config_.vocab_size;
}

}  // namespace bachgen::model
