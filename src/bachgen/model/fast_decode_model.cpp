// make_fast_decoder: copies a model's parameters (as fp32 on the CPU) into the fast decoder's
// plain arrays. The parameter names are those the modules register (model_file.cpp's archive
// uses the same ones).
#include "bachgen/model/fast_decode.h"

#include <torch/torch.h>

#include <stdexcept>

#include "bachgen/model/music_lstm.h"
#include "bachgen/model/music_transformer.h"

namespace bachgen::model {

namespace {

class Parameters {
 public:
  explicit Parameters(torch::nn::Module& module) : items_(module.named_parameters(/*recurse=*/true)) {}

  std::vector<float> operator()(const std::string& name, std::vector<int64_t> shape) const {
    const torch::Tensor* p = items_.find(name);
    if (p == nullptr) throw std::invalid_argument("fast decoder: the model has no parameter " + name);
    if (p->sizes().vec() != shape) throw std::invalid_argument("fast decoder: parameter " + name + " has an unexpected shape");
    const torch::Tensor t = p->detach().to(torch::kCPU, torch::kFloat32).contiguous();
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }
  bool has(const std::string& name) const { return items_.find(name) != nullptr; }
  bool all_on_cpu() const {
    for (const auto& item : items_) {
      if (!item.value().device().is_cpu()) return false;
    }
    return true;
  }

 private:
  torch::OrderedDict<std::string, torch::Tensor> items_;
};

}  // namespace

std::unique_ptr<FastDecoder> make_fast_decoder(SequenceModelImpl& model, DecodeWeights format) {
  const Parameters p(model);
  if (!p.all_on_cpu()) return nullptr;
  const int threads = at::get_num_threads();
  if (auto* lstm = dynamic_cast<MusicLstmImpl*>(&model)) {
    const LstmConfig& c = lstm->config();
    FastLstmWeights w;
    w.vocab = c.vocab_size, w.d_embed = c.d_embed, w.hidden = c.hidden, w.layers = c.layers;
    w.embedding = p("embedding.weight", {c.vocab_size, c.d_embed});
    for (int64_t l = 0; l < c.layers; ++l) {
      const std::string k = std::to_string(l);
      const int64_t in = l == 0 ? c.d_embed : c.hidden;
      w.w_ih.push_back(p("lstm.weight_ih_l" + k, {4 * c.hidden, in}));
      w.w_hh.push_back(p("lstm.weight_hh_l" + k, {4 * c.hidden, c.hidden}));
      w.b_ih.push_back(p("lstm.bias_ih_l" + k, {4 * c.hidden}));
      w.b_hh.push_back(p("lstm.bias_hh_l" + k, {4 * c.hidden}));
    }
    w.w_out = p("output.weight", {c.vocab_size, c.hidden});
    w.b_out = p("output.bias", {c.vocab_size});
    return make_fast_lstm(w, format, threads);
  }
  auto* transformer = dynamic_cast<MusicTransformerImpl*>(&model);
  if (transformer == nullptr || transformer->kind() != ModelKind::kMusicTransformer) return nullptr;
  const TransformerConfig& c = transformer->config();
  if (!c.causal) return nullptr;
  const int64_t d = c.d_model, dh = c.d_model / c.heads;
  FastTransformerWeights w;
  w.vocab = c.vocab_size, w.d_model = d, w.layers = c.layers, w.heads = c.heads, w.d_ff = c.d_ff;
  w.max_relative = c.max_relative, w.relative = c.relative, w.absolute_positions = c.absolute_positions;
  w.voice_period = c.voice_period;
  w.token_embedding = p("token_embedding.weight", {c.vocab_size, d});
  if (c.voice_period > 0) w.voice_embedding = p("voice_embedding.weight", {c.voice_period, d});
  w.beat_steps = c.beat_steps;
  if (c.beat_steps > 0) w.beat_embedding = p("beat_embedding.weight", {c.beat_steps, d});
  w.conditions = c.conditions;
  if (c.conditions) {
    w.bar_embedding = p("bar_embedding.weight", {tokenize::kBarIndices, d});
    w.end_embedding = p("end_embedding.weight", {tokenize::kEndIndices, d});
    w.key_embedding = p("key_embedding.weight", {tokenize::kKeyIndices, d});
  }
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string b = "block" + std::to_string(i) + ".";
    FastTransformerWeights::Layer l;
    l.norm1_w = p(b + "norm1.weight", {d}), l.norm1_b = p(b + "norm1.bias", {d});
    l.qkv_w = p(b + "attention.qkv.weight", {3 * d, d}), l.qkv_b = p(b + "attention.qkv.bias", {3 * d});
    l.out_w = p(b + "attention.out.weight", {d, d}), l.out_b = p(b + "attention.out.bias", {d});
    if (c.relative) l.relative = p(b + "attention.relative", {c.max_relative, dh});
    l.norm2_w = p(b + "norm2.weight", {d}), l.norm2_b = p(b + "norm2.bias", {d});
    l.ff1_w = p(b + "ff1.weight", {c.d_ff, d}), l.ff1_b = p(b + "ff1.bias", {c.d_ff});
    l.ff2_w = p(b + "ff2.weight", {d, c.d_ff}), l.ff2_b = p(b + "ff2.bias", {d});
    w.blocks.push_back(std::move(l));
  }
  w.final_norm_w = p("final_norm.weight", {d}), w.final_norm_b = p("final_norm.bias", {d});
  if (!c.tie_embeddings) {
    w.output_w = p("output.weight", {c.vocab_size, d});
    w.output_b = p("output.bias", {c.vocab_size});
  }
  return make_fast_transformer(w, format, threads);
}

}  // namespace bachgen::model
