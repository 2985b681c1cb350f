// The score, presets and export commands.
#include "bachgen/commands/model_commands.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bachgen/data/token_input.h"
#include "bachgen/model/model_file.h"
#include "bachgen/model/safetensors.h"
#include "bachgen/model/scoring.h"

namespace bachgen::commands {

using namespace model;

std::string score_report(const ScoreSettings& s) {
  const LoadedModel loaded = load_model(s.model);
  const tokenize::VocabId vocab = tokenize::parse_vocab(loaded.spec.vocab);
  const std::vector<data::TokenPiece> pieces = data::read_token_input(s.input, vocab);
  double total_nll = 0;
  size_t total_tokens = 0;
  nlohmann::json out;
  out["model"] = s.model;
  out["kind"] = model_kind_name(loaded.spec.kind);
  out["vocab"] = loaded.spec.vocab;
  out["input"] = s.input;
  out["pieces"] = nlohmann::json::array();
  std::string text;
  char line[256];
  std::snprintf(line, sizeof line, "%s (%s, %s) on %s\n", s.model.c_str(), model_kind_name(loaded.spec.kind),
                loaded.spec.vocab.c_str(), s.input.c_str());
  text += line;
  for (const data::TokenPiece& piece : pieces) {
    const TokenScores scores = score_tokens(*loaded.model, piece.tokens);
    total_nll += scores.nll();
    total_tokens += scores.log_probs.size();
    nlohmann::json names = nlohmann::json::array();
    for (int32_t t : piece.tokens) names.push_back(data::token_name(vocab, t));
    out["pieces"].push_back({{"name", piece.name},
                             {"tokens", piece.tokens},
                             {"token_names", names},
                             {"log_probs", scores.log_probs},
                             {"scored_tokens", scores.log_probs.size()},
                             {"nll", scores.nll()},
                             {"nll_per_token", scores.nll_per_token()}});
    std::snprintf(line, sizeof line, "%s: %zu tokens scored, NLL %.4f nats, %.4f per token, perplexity %.3f\n",
                  piece.name.c_str(), scores.log_probs.size(), scores.nll(), scores.nll_per_token(),
                  std::exp(scores.nll_per_token()));
    text += line;
    if (s.per_token) {
      for (size_t i = 0; i < scores.log_probs.size(); ++i) {
        std::snprintf(line, sizeof line, "  %6zu  %-10s %10.4f\n", i + 1,
                      data::token_name(vocab, piece.tokens[i + 1]).c_str(), scores.log_probs[i]);
        text += line;
      }
    }
  }
  const double per_token = total_tokens ? total_nll / static_cast<double>(total_tokens) : 0.0;
  out["total"] = {{"scored_tokens", total_tokens}, {"nll", total_nll}, {"nll_per_token", per_token}};
  if (s.json) return out.dump() + "\n";
  std::snprintf(line, sizeof line, "total: %zu pieces, %zu tokens scored, %.4f nats per token (perplexity %.3f)\n",
                pieces.size(), total_tokens, per_token, std::exp(per_token));
  return text + line;
}

std::string preset_table(const std::string& vocab, int64_t length) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-18s %-18s %-34s %12s %16s\n", "preset", "kind", "shape", "parameters",
                "GFLOPs/token");
  out += line;
  for (const std::string& name : preset_names()) {
    const ModelSpec spec = preset(name, vocab);
    const SequenceModel m = build_model(spec);
    const std::string shape = spec_shape(spec);
    const double macs = forward_macs_per_token(spec, length);
    std::snprintf(line, sizeof line, "%-18s %-18s %-34s %12lld %16.6f\n", name.c_str(), model_kind_name(spec.kind),
                  shape.c_str(), static_cast<long long>(m->parameter_count()), 2 * macs / 1e9);
    out += line;
  }
  std::snprintf(line, sizeof line, "(vocabulary %s; FLOPs of the forward pass at sequence length %lld)\n",
                vocab.c_str(), static_cast<long long>(length));
  return out + line;
}

void export_model_safetensors(const std::string& model_path, const std::string& out_path) {
  const LoadedModel loaded = load_model(model_path);
  if (loaded.spec.kind == ModelKind::kTorchScript) {
    throw std::runtime_error(model_path + ": a TorchScript model has no bachgen config to export");
  }
  export_safetensors(out_path, loaded.spec, *loaded.model);
}

std::string pack_model(const std::string& model_path, const std::string& out_path, const std::string& weights) {
  if (weights != "fp32" && weights != "bf16") throw std::runtime_error("--weights must be fp32 or bf16, not " + weights);
  const LoadedModel loaded = load_model(model_path);
  if (loaded.spec.kind == ModelKind::kTorchScript) throw std::runtime_error(model_path + ": a TorchScript model cannot be packed");
  if (weights == "bf16") loaded.model->to(torch::kBFloat16);
  save_model(out_path, loaded.spec, *loaded.model);
  const auto size_of = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) : 0.0;
  };
  char line[512];
  std::snprintf(line, sizeof line, "wrote %s: %s %s, %lld parameters, %s weights, %.1f MB (from %.1f MB)\n", out_path.c_str(),
                model_kind_name(loaded.spec.kind), spec_shape(loaded.spec).c_str(), static_cast<long long>(loaded.model->parameter_count()),
                weights.c_str(), size_of(out_path) / 1e6, size_of(model_path) / 1e6);
  return line;
}

}  // namespace bachgen::commands
