// Training examples for the conditioning model (model/chorale_infill.h): windows of whole
// 16th steps from a satb16 shard, transposed like the language models' windows, with a random
// set of variables (voice, step) hidden. The model sees PAD where a variable is hidden and must
// predict it; the loss counts hidden variables only. Each example is a pure function of
// (seed, index), so loader workers do not change a run. docs/model.md#the-conditioning-model.
#pragma once

#include <torch/torch.h>

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "bachgen/data/token_dataset.h"

namespace bachgen::data {

// The hiding patterns, one drawn per example (docs/model.md lists them with their odds):
//   kOrderless   every variable hidden with probability r, r uniform in (0, 1]
//   kHarmonize   the soprano known; each A, T, B variable hidden with probability r, and
//                with odds 1/6 every one of them (the start of a harmonization)
//   kBlock       a span of steps and a set of voices, all hidden (the start of an infill),
//                with other variables hidden with probability r / 4
enum class HidePattern { kOrderless, kHarmonize, kBlock };

struct InfillExample {
  std::vector<int32_t> tokens;  // 4 S grid tokens (EOS past the piece's end)
  std::vector<uint8_t> hidden;  // 4 S flags
  size_t start = 0;             // the first token's position in the piece's grid (4 x its step)
  HidePattern pattern = HidePattern::kOrderless;
  tokenize::PieceConditions conditions;  // the piece's, as WindowDataset draws them (unknown without)
};

class InfillDataset {
 public:
  // `length`: tokens per example, a multiple of 4.
  InfillDataset(std::shared_ptr<const TokenShard> shard, WindowOptions options);

  InfillExample example(size_t index) const;
  // input: the tokens with PAD where hidden; target: the tokens; mask: 1 where hidden and
  // inside the piece; offset: start; conditions (B, 4) when the options have them.
  TokenBatch get_batch(const std::vector<size_t>& indices) const;

 private:
  WindowDataset windows_;
  WindowOptions options_;
};

// Input, target and mask of one row from grid tokens and the variables to predict (the
// evaluation and sampling side of the same convention): mask = hidden, input = PAD there.
TokenBatch infill_rows(const std::vector<std::vector<int32_t>>& tokens,
                       const std::vector<std::vector<uint8_t>>& hidden);

}  // namespace bachgen::data
