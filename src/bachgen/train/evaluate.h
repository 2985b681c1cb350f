// `bachgen eval`: NLL per token of a model over every whole piece of a prepared split, with
// accuracy and perplexity (and, for the chorale vocabularies, NLL per 16th step = 4 tokens).
// Torch-free header.
#pragma once

#include <cstdint>
#include <string>

namespace bachgen::model {
class SequenceModelImpl;
}
namespace bachgen::data {
struct TokenShard;
}

namespace bachgen::train {

struct EvalSettings {
  std::string model;          // a bachgen model file or a TorchScript file
  std::string data;           // a folder made by `bachgen prepare`
  std::string split = "test";  // train | valid | test
  int64_t window = 4096;      // pieces longer than this are scored in consecutive windows
  bool json = false;
};

struct EvalResult {
  int64_t pieces = 0;
  int64_t tokens = 0;        // scored tokens: every token after each piece's first
  double nll = 0;            // total, nats
  double nll_per_token = 0;
  double nll_per_step = 0;   // chorale vocabularies: 4 x nll_per_token; 0 otherwise
  double accuracy = 0;       // argmax prediction equals the token
  double perplexity = 0;
};

EvalResult evaluate(const EvalSettings& settings);

// The same over a shard already loaded, with a model already built: what the trainer's
// validation uses too. Leaves the model in eval mode.
EvalResult evaluate_shard(model::SequenceModelImpl& model, const data::TokenShard& shard, int64_t window);
std::string eval_report(const EvalSettings& settings);  // text or JSON

}  // namespace bachgen::train
