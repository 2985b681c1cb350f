// Whole-piece evaluation.
#include "bachgen/train/evaluate.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/data/chorale_corpus.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/model/model_file.h"

namespace bachgen::train {

EvalResult evaluate(const EvalSettings& s) {
  if (s.window < 2) throw std::invalid_argument("--window must be at least 2");
  const model::LoadedModel loaded = model::load_model(s.model);
  const data::Split split = data::parse_split(s.split);
  const data::TokenShard shard = data::read_shard(s.data + "/" + data::split_name(split) + ".tokens");
  if (data::vocab_name(shard.vocab) != loaded.spec.vocab) {
    throw std::runtime_error(s.data + ": the data is " + data::vocab_name(shard.vocab) +
                             " tokens but the model " + s.model + " is for " + loaded.spec.vocab);
  }
  torch::NoGradGuard no_grad;
  loaded.model->eval();
  EvalResult r;
  int64_t correct = 0;
  using torch::indexing::Slice;
  for (size_t p = 0; p < shard.pieces(); ++p) {
    const int64_t n = static_cast<int64_t>(shard.piece_length(p));
    if (n < 2) continue;
    ++r.pieces;
    const uint16_t* piece = shard.piece(p);
    // Windows of `window` inputs predicting the next token each; the last may be shorter.
    for (int64_t start = 0; start + 1 < n; start += s.window) {
      const int64_t len = std::min(s.window, n - 1 - start);
      std::vector<int64_t> ids(piece + start, piece + start + len + 1);
      const torch::Tensor all = torch::tensor(ids, torch::kInt64).view({1, len + 1});
      const torch::Tensor input = all.index({Slice(), Slice(0, len)});
      const torch::Tensor target = all.index({Slice(), Slice(1, len + 1)});
      const torch::Tensor offset = torch::full({1}, start, torch::kInt64);
      const torch::Tensor logits = loaded.model->forward(input, offset).to(torch::kFloat64);  // (1, len, V)
      const torch::Tensor log_probs = torch::log_softmax(logits, -1);
      r.nll -= log_probs.gather(-1, target.unsqueeze(-1)).sum().item<double>();
      correct += (logits.argmax(-1) == target).sum().item<int64_t>();
      r.tokens += len;
    }
  }
  if (r.tokens == 0) throw std::runtime_error(s.data + ": the " + s.split + " split has no tokens to score");
  r.nll_per_token = r.nll / static_cast<double>(r.tokens);
  r.nll_per_step = shard.vocab == data::VocabId::kPerformance388 ? 0.0 : 4 * r.nll_per_token;
  r.accuracy = static_cast<double>(correct) / static_cast<double>(r.tokens);
  r.perplexity = std::exp(r.nll_per_token);
  return r;
}

std::string eval_report(const EvalSettings& s) {
  const EvalResult r = evaluate(s);
  if (s.json) {
    nlohmann::json j = {{"model", s.model},           {"data", s.data},
                        {"split", s.split},           {"pieces", r.pieces},
                        {"tokens", r.tokens},         {"nll", r.nll},
                        {"nll_per_token", r.nll_per_token}, {"accuracy", r.accuracy},
                        {"perplexity", r.perplexity}, {"window", s.window}};
    if (r.nll_per_step > 0) j["nll_per_step"] = r.nll_per_step;
    return j.dump() + "\n";
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s on %s/%s: %lld pieces, %lld tokens\n  NLL %.4f nats per token%s, accuracy %.4f, "
                "perplexity %.3f\n",
                s.model.c_str(), s.data.c_str(), s.split.c_str(), static_cast<long long>(r.pieces),
                static_cast<long long>(r.tokens), r.nll_per_token,
                r.nll_per_step > 0 ? (" (" + std::to_string(r.nll_per_step).substr(0, 6) + " per 16th step)").c_str() : "",
                r.accuracy, r.perplexity);
  return buf;
}

}  // namespace bachgen::train
