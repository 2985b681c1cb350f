// `bachgen eval`.
#include "bachgen/commands/eval_command.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/data/chorale_corpus.h"
#include "bachgen/data/piece_conditions.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/model/model_file.h"
#include "bachgen/runtime/bundled_models.h"

namespace bachgen::commands {

using train::EvalResult;
using train::evaluate_harmonization;
using train::evaluate_shard;
using train::evaluate_shard_decoded;

train::EvalResult evaluate(const EvalSettings& s) {
  const model::LoadedModel loaded = model::load_model(runtime::resolve_model(s.model, runtime::kDefaultComposer));
  const data::Split split = data::parse_split(s.split);
  const data::TokenShard shard = data::read_shard(s.data + "/" + data::split_name(split) + ".tokens");
  if (tokenize::vocab_name(shard.vocab) != loaded.spec.vocab) {
    throw std::runtime_error(s.data + ": the data is " + tokenize::vocab_name(shard.vocab) +
                             " tokens but the model " + s.model + " is for " + loaded.spec.vocab);
  }
  try {
    if (s.conditions != "none" && s.conditions != "known") throw std::runtime_error("--conditions must be none or known");
    const bool takes_conditions = (loaded.spec.kind == model::ModelKind::kMusicTransformer ||
                                   loaded.spec.kind == model::ModelKind::kChoraleInfill) &&
                                  loaded.spec.transformer.conditions;
    if (s.conditions == "known" && !takes_conditions) {
      throw std::runtime_error("--conditions known: " + s.model + " has no conditions (docs/model.md#conditions)");
    }
    std::vector<tokenize::PieceConditions> conditions;
    if (s.conditions == "known") conditions = data::shard_conditions(shard, data::read_split_meters(s.data, data::split_name(split)));
    const auto* given = s.conditions == "known" ? &conditions : nullptr;
    if (loaded.spec.kind == model::ModelKind::kChoraleInfill) {
      if (!s.decode_weights.empty()) throw std::runtime_error("--decode-weights: the conditioning model is not decoded token by token");
      if (s.mean_field && s.in_time) throw std::runtime_error("--mean-field and --in-time: choose one");
      return evaluate_harmonization(*loaded.model, shard, !s.mean_field, given, /*sampler_order=*/!s.in_time);
    }
    if (!s.decode_weights.empty()) return evaluate_shard_decoded(*loaded.model, shard, s.window, s.decode_weights, given);
    return evaluate_shard(*loaded.model, shard, s.window, given);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(s.data + " (" + s.split + "): " + e.what());
  }
}

std::string eval_report(const EvalSettings& s) {
  const EvalResult r = evaluate(s);
  nlohmann::json j = {{"model", s.model}, {"data", s.data}, {"split", s.split}, {"pieces", r.pieces},
                      {"accuracy", r.accuracy}, {"perplexity", r.perplexity}};
  if (r.harmonization) {
    if (s.json) {
      j["objective"] = "alto, tenor and bass given the soprano";
      j["variables"] = r.tokens;
      j["nll_mean_field"] = r.nll_mean_field;
      j["nll_per_variable"] = r.nll_per_token;
      if (!s.mean_field) {
        if (!s.in_time) j["nll_chained"] = r.nll_chained;
        j["nll_in_time"] = r.nll_in_time;
        j["accuracy_in_time"] = r.accuracy_in_time;
      }
      j["conditions"] = s.conditions;
      return j.dump() + "\n";
    }
    char buf[768];
    std::snprintf(buf, sizeof buf,
                  "%s on %s/%s: %lld pieces, %lld alto/tenor/bass variables given the soprano\n"
                  "  NLL %.4f nats per variable, mean field (all at once)\n",
                  s.model.c_str(), s.data.c_str(), s.split.c_str(), static_cast<long long>(r.pieces),
                  static_cast<long long>(r.tokens), r.nll_mean_field);
    std::string out = buf;
    if (!s.mean_field && !s.in_time) {
      std::snprintf(buf, sizeof buf, "  NLL %.4f nats per variable, chained in the sampler's order\n", r.nll_chained);
      out += buf;
    }
    if (!s.mean_field) {
      std::snprintf(buf, sizeof buf,
                    "  NLL %.4f nats per variable, in time (step by step, S A T B within a step), accuracy %.4f\n",
                    r.nll_in_time, r.accuracy_in_time);
      out += buf;
    }
    std::snprintf(buf, sizeof buf, "  accuracy %.4f, perplexity %.3f\n", r.accuracy, r.perplexity);
    return out + buf;
  }
  if (s.json) {
    j["tokens"] = r.tokens;
    j["nll"] = r.nll;
    j["nll_per_token"] = r.nll_per_token;
    j["window"] = s.window;
    j["decoder"] = s.decode_weights.empty() ? "forward" : "fast " + s.decode_weights;
    j["conditions"] = s.conditions;
    if (r.nll_per_step > 0) j["nll_per_step"] = r.nll_per_step;
    return j.dump() + "\n";
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s on %s/%s%s%s: %lld pieces, %lld tokens\n  NLL %.4f nats per token%s, accuracy %.4f, "
                "perplexity %.3f\n",
                s.model.c_str(), s.data.c_str(), s.split.c_str(),
                s.decode_weights.empty() ? "" : (" (fast decoder, " + s.decode_weights + " weights)").c_str(),
                s.conditions == "known" ? " (conditions known)" : "",
                static_cast<long long>(r.pieces),
                static_cast<long long>(r.tokens), r.nll_per_token,
                r.nll_per_step > 0 ? (" (" + std::to_string(r.nll_per_step).substr(0, 6) + " per 16th step)").c_str() : "",
                r.accuracy, r.perplexity);
  return buf;
}

}  // namespace bachgen::commands
