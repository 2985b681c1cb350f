// Attention introspection: capture, JSON, heatmaps.
#include "bachgen/commands/attention_report.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/data/token_input.h"
#include "bachgen/io/files.h"
#include "bachgen/model/model_file.h"
#include "bachgen/render/png_image.h"

namespace bachgen::commands {

using namespace model;

std::string write_attention_maps(const AttentionSettings& s) {
  const LoadedModel loaded = load_model(s.model);
  auto* transformer = dynamic_cast<MusicTransformerImpl*>(loaded.model.get());
  if (!transformer) {
    throw std::runtime_error(s.model + ": attention maps need a Music Transformer, not " + std::string(model_kind_name(loaded.spec.kind)));
  }
  const tokenize::VocabId vocab = tokenize::parse_vocab(loaded.spec.vocab);
  const std::vector<data::TokenPiece> pieces = data::read_token_input(s.input, vocab);
  if (pieces.empty() || pieces[0].tokens.empty()) throw std::runtime_error(s.input + ": no piece to read");
  std::vector<int32_t> tokens = pieces[0].tokens;
  if (static_cast<int64_t>(tokens.size()) > s.max_tokens) tokens.resize(static_cast<size_t>(s.max_tokens));
  const int64_t t = static_cast<int64_t>(tokens.size());

  for (TransformerBlock& block : transformer->blocks()) block->attention->capture_weights = true;
  {
    torch::NoGradGuard no_grad;
    transformer->eval();
    transformer->forward(torch::tensor(std::vector<int64_t>(tokens.begin(), tokens.end())).view({1, t}));
  }
  io::make_directories(s.out);
  nlohmann::json j;
  j["model"] = s.model;
  j["input"] = pieces[0].name;
  j["tokens"] = tokens;
  nlohmann::json names = nlohmann::json::array();
  for (int32_t tok : tokens) names.push_back(data::token_name(vocab, tok));
  j["token_names"] = names;
  j["layers"] = nlohmann::json::array();
  const int cell = static_cast<int>(std::max<int64_t>(1, 512 / t));
  size_t images = 0;
  for (size_t layer = 0; layer < transformer->blocks().size(); ++layer) {
    auto& attention = transformer->blocks()[layer]->attention;
    const torch::Tensor w = attention->last_weights.squeeze(0).to(torch::kFloat32).contiguous();  // (H, T, T)
    attention->capture_weights = false;
    attention->last_weights = torch::Tensor();
    nlohmann::json heads = nlohmann::json::array();
    for (int64_t h = 0; h < w.size(0); ++h) {
      const torch::Tensor head = w[h].contiguous();
      const float* v = head.data_ptr<float>();
      nlohmann::json rows = nlohmann::json::array();
      for (int64_t i = 0; i < t; ++i) {
        rows.push_back(std::vector<float>(v + i * t, v + (i + 1) * t));
      }
      heads.push_back(std::move(rows));
      // Each row is scaled by its maximum, so that every query's focus is visible.
      const torch::Tensor scaled = (head / head.amax(-1, /*keepdim=*/true).clamp_min(1e-12)).contiguous();
      render::write_png(s.out + "/layer" + std::to_string(layer) + "_head" + std::to_string(h) + ".png",
                        render::heatmap(scaled.data_ptr<float>(), static_cast<int>(t), static_cast<int>(t), cell));
      ++images;
    }
    j["layers"].push_back(std::move(heads));
  }
  io::write_file_atomically(s.out + "/attention.json", j.dump() + "\n");
  return "wrote " + s.out + "/attention.json and " + std::to_string(images) + " heatmaps (" +
         std::to_string(t) + " tokens, " + std::to_string(transformer->blocks().size()) + " layers)";
}

}  // namespace bachgen::commands
