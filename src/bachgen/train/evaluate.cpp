// Whole-piece evaluation.
#include "bachgen/train/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/data/chorale_corpus.h"
#include "bachgen/data/token_dataset.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/model/model_file.h"

namespace bachgen::train {

EvalResult evaluate_shard(model::SequenceModelImpl& m, const data::TokenShard& shard, int64_t window) {
  if (window < 2) throw std::invalid_argument("the evaluation window must be at least 2 tokens");
  torch::NoGradGuard no_grad;
  m.eval();
  EvalResult r;
  double correct = 0;
  for (size_t p = 0; p < shard.pieces(); ++p) r.pieces += shard.piece_length(p) >= 2;
  // Consecutive windows over every piece (data.md): every target token exactly once. Batches
  // hold about 2M attention logits per head (B * window^2), so that the (B, H, T, T) tensors
  // stay in the allocator's reused memory instead of being mapped (and page-faulted) anew.
  const int64_t batch = std::clamp<int64_t>((int64_t{1} << 21) / (window * window), 1, 64);
  const std::vector<torch::Tensor> parameters = m.parameters();
  const torch::Device device = parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
  for (data::TokenBatch b : data::evaluation_batches(shard, window, batch)) {
    if (!device.is_cpu()) {  // the model's device (CUDA when training there)
      b.input = b.input.to(device);
      b.target = b.target.to(device);
      b.mask = b.mask.to(device);
      b.offset = b.offset.to(device);
    }
    const torch::Tensor logits = m.forward(b.input, b.offset).to(torch::kFloat64);  // (B, L, V)
    const torch::Tensor nll = -torch::log_softmax(logits, -1).gather(-1, b.target.unsqueeze(-1)).squeeze(-1);
    const torch::Tensor mask = b.mask.to(torch::kFloat64);
    r.nll += (nll * mask).sum().item<double>();
    correct += ((logits.argmax(-1) == b.target).to(torch::kFloat64) * mask).sum().item<double>();
    r.tokens += static_cast<int64_t>(mask.sum().item<double>());
  }
  if (r.tokens == 0) throw std::runtime_error("no tokens to score");
  r.nll_per_token = r.nll / static_cast<double>(r.tokens);
  r.nll_per_step = shard.vocab == data::VocabId::kPerformance388 ? 0.0 : 4 * r.nll_per_token;
  r.accuracy = static_cast<double>(correct) / static_cast<double>(r.tokens);
  r.perplexity = std::exp(r.nll_per_token);
  return r;
}

EvalResult evaluate(const EvalSettings& s) {
  const model::LoadedModel loaded = model::load_model(s.model);
  const data::Split split = data::parse_split(s.split);
  const data::TokenShard shard = data::read_shard(s.data + "/" + data::split_name(split) + ".tokens");
  if (data::vocab_name(shard.vocab) != loaded.spec.vocab) {
    throw std::runtime_error(s.data + ": the data is " + data::vocab_name(shard.vocab) +
                             " tokens but the model " + s.model + " is for " + loaded.spec.vocab);
  }
  try {
    return evaluate_shard(*loaded.model, shard, s.window);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(s.data + " (" + s.split + "): " + e.what());
  }
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
