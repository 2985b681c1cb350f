// TorchScript models behind the SequenceModel interface.
#include "bachgen/model/torchscript_model.h"

namespace bachgen::model {

TorchScriptModelImpl::TorchScriptModelImpl(torch::jit::Module module, int64_t vocab_size)
    : module_(std::move(module)), vocab_size_(vocab_size) {
  module_.eval();
}

torch::Tensor TorchScriptModelImpl::forward(const torch::Tensor& tokens, const torch::Tensor&, const torch::Tensor&) {
  const torch::Tensor logits = module_.forward({tokens}).toTensor();
  TORCH_CHECK(logits.dim() == 3 && logits.size(0) == tokens.size(0) &&
                  logits.size(1) == tokens.size(1) && logits.size(2) == vocab_size_,
              "the TorchScript model returned logits of shape ", logits.sizes(), " for tokens ",
              tokens.sizes(), "; expected (B, T, ", vocab_size_, ")");
  return logits.to(torch::kFloat32);
}

torch::Tensor TorchScriptModelImpl::step(const torch::Tensor& tokens, DecodeState& state) {
  state.h = state.h.defined() ? torch::cat({state.h, tokens}, /*dim=*/1) : tokens.clone();
  ++state.length;
  using torch::indexing::Slice;
  return forward(state.h).index({Slice(), -1});  // (B, V)
}

int64_t TorchScriptModelImpl::parameter_count() const {
  int64_t n = 0;
  for (const torch::Tensor& p : module_.parameters()) n += p.numel();
  return n;
}

}  // namespace bachgen::model
