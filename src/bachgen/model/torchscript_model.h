// Python-trained models, deployed without Python: a TorchScript file (torch.jit.save) whose
// forward maps token ids (B, T) to logits (B, T, V), with its vocabulary named in the extra
// file "bachgen_vocab". Generation recomputes the whole prefix each step (no cache).
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <string>

#include "bachgen/model/sequence_model.h"

namespace bachgen::model {

inline constexpr const char* kTorchScriptVocabFile = "bachgen_vocab";

class TorchScriptModelImpl : public SequenceModelImpl {
 public:
  TorchScriptModelImpl(torch::jit::Module module, int64_t vocab_size);

  torch::Tensor forward(const torch::Tensor& tokens,
                        const torch::Tensor& offset = torch::Tensor(),
                        const torch::Tensor& conditions = torch::Tensor()) override;
  // Keeps the tokens seen so far in state.h and runs forward over all of them.
  torch::Tensor step(const torch::Tensor& tokens, DecodeState& state) override;
  int64_t vocab_size() const override { return vocab_size_; }
  ModelKind kind() const override { return ModelKind::kTorchScript; }
  int64_t parameter_count() const override;

 private:
  mutable torch::jit::Module module_;
  int64_t vocab_size_;
};

}  // namespace bachgen::model
