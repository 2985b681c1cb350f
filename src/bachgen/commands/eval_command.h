// `bachgen eval`: a model file (or a bundled model's name) scored over a split of a folder made
// by `bachgen prepare` (train/evaluate.h), as text or JSON. Torch-free header; docs/training.md.
#pragma once

#include <cstdint>
#include <string>

#include "bachgen/train/evaluate.h"

namespace bachgen::commands {

struct EvalSettings {
  std::string model;          // a bachgen model file, a TorchScript file, or a bundled model's name
  std::string data;           // a folder made by `bachgen prepare`
  std::string split = "test";  // train | valid | test
  int64_t window = 4096;      // pieces longer than this are scored in consecutive windows
  bool json = false;
  bool mean_field = false;    // conditioning models: the one-pass score only (fast)
  bool in_time = false;       // conditioning models: the mean field and in time only (skips the
                              // sampler's order)
  std::string conditions = "none";  // composers with conditions: none (nothing known: the honest,
                                    // left-to-right NLL) | known (each piece's meter, length and key)
  std::string decode_weights;  // int8 | fp32: score through generation's fast decoder, token by
                               // token (model/fast_decode.h); empty: the model's forward pass
};

// Throws std::runtime_error naming the model or the data and the problem.
train::EvalResult evaluate(const EvalSettings& settings);
std::string eval_report(const EvalSettings& settings);  // text or JSON

}  // namespace bachgen::commands
