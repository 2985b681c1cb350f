// The LSTM baseline: token embedding, a multi-layer LSTM with explicit (h, c) state, and a
// projection to the vocabulary.
#pragma once

#include <torch/torch.h>

#include <string>

#include "bachgen/model/sequence_model.h"

namespace bachgen::model {

struct LstmConfig {
  int64_t vocab_size = 50;
  int64_t d_embed = 256;  // token embedding width
  int64_t hidden = 512;   // LSTM state width
  int64_t layers = 2;
  double dropout = 0.1;   // between LSTM layers and before the projection
};

class MusicLstmImpl : public SequenceModelImpl {
 public:
  explicit MusicLstmImpl(const LstmConfig& config);

  torch::Tensor forward(const torch::Tensor& tokens,
                        const torch::Tensor& offset = torch::Tensor(),
                        const torch::Tensor& conditions = torch::Tensor()) override;
  torch::Tensor step(const torch::Tensor& tokens, DecodeState& state) override;
  int64_t vocab_size() const override { return config_.vocab_size; }
  ModelKind kind() const override { return ModelKind::kMusicLstm; }
  const LstmConfig& config() const { return config_; }
  double macs_per_token() const;

 private:
  torch::Tensor step_one_row(const torch::Tensor& tokens, DecodeState& state);

  LstmConfig config_;
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear output_{nullptr};
};

}  // namespace bachgen::model
