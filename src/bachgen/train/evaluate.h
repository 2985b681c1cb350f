// Evaluation: NLL per token of a model over every whole piece of a token shard, with accuracy
// and perplexity (and, for the chorale vocabularies, NLL per 16th step = 4 tokens); the
// conditioning model's harmonization scores. `bachgen eval` is commands/eval_command.h.
// Torch-free header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bachgen/tokenize/conditions.h"

namespace bachgen::model {
class SequenceModelImpl;
}
namespace bachgen::data {
struct TokenShard;
}

namespace bachgen::train {

struct EvalResult {
  int64_t pieces = 0;
  int64_t tokens = 0;        // scored tokens: every token after each piece's first
  double nll = 0;            // total, nats
  double nll_per_token = 0;
  double nll_per_step = 0;   // chorale vocabularies: 4 x nll_per_token; 0 otherwise
  double accuracy = 0;       // argmax prediction equals the token
  double perplexity = 0;
  // Conditioning models (chorale-infill) score Bach's alto, tenor and bass given his soprano:
  // `tokens` counts those variables and nll_per_token is the chained NLL (below), or the
  // mean-field one with EvalSettings::mean_field.
  bool harmonization = false;
  double nll_mean_field = 0;  // per variable: every A, T, B predicted at once from the soprano
  double nll_chained = 0;     // per variable: in the sampler's order (below)
  double nll_in_time = 0;     // per variable: step by step, S A T B within a step (below)
  double accuracy_in_time = 0;
};

// The conditioning model's score over a satb16 shard (docs/model.md#evaluation). Mean field:
// one pass per piece with every A, T, B hidden; p(ATB | S) = product of the marginals.
// Chained (when `chained`): the factorization harmonize samples from (generate/infill.h): the
// A, T, B variables of piece p in the order infill_schedule draws with Rng(1 + p), one chunk
// per step; p(ATB | S) = product over chunks of the product over its variables of
// p(x | S, the chunks before), one pass per chunk. Both are proper distributions over ATB;
// the chained one is the distribution `bachgen harmonize` draws from (temperature 1, no top-k
// or top-p, voice-leading rules off). In time (also when `chained`; three passes per step):
// p(ATB | S) = product over steps t and voices v = A, T, B of p(x[t, v] | S, every A, T, B
// before step t, the voices before v at step t): the chain rule in the order the music is read.
// `conditions` (one per piece): what a model with conditions is told of each; none = nothing.
// `sampler_order` false (with chained): in time only, which is then nll_per_token and accuracy.
// Leaves the model in eval mode.
EvalResult evaluate_harmonization(model::SequenceModelImpl& model, const data::TokenShard& shard, bool chained,
                                  const std::vector<tokenize::PieceConditions>* conditions = nullptr,
                                  bool sampler_order = true);

// The conditioning model's validation in training: its own objective (hidden-variable
// cross-entropy, data/infill_dataset.h) on windows of the shard with a fixed seed and no
// augmentation, 4 windows' worth of the shard's tokens (at least 64), in batches; the mean
// NLL per hidden variable. Cheap, and it scores the conditionals the sampler uses.
double infill_validation_loss(model::SequenceModelImpl& model, std::shared_ptr<const data::TokenShard> shard,
                              int64_t length, int64_t batch);


// The same over a shard already loaded, with a model already built: what the trainer's
// validation uses too. Leaves the model in eval mode. `conditions` (one per piece; models with
// conditions): what each piece is, else nothing is known (the honest, left-to-right NLL).
EvalResult evaluate_shard(model::SequenceModelImpl& model, const data::TokenShard& shard, int64_t window,
                          const std::vector<tokenize::PieceConditions>* conditions = nullptr);
// The same windows and figures, through generation's fast batch-1 decoder with `weights`
// ("int8" | "fp32"); throws std::runtime_error for models it does not cover.
EvalResult evaluate_shard_decoded(model::SequenceModelImpl& model, const data::TokenShard& shard, int64_t window,
                                  const std::string& weights,
                                  const std::vector<tokenize::PieceConditions>* conditions = nullptr);

}  // namespace bachgen::train
