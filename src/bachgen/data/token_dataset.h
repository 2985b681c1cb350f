// torch::data datasets over token shards. Training: random windows of a fixed length from the
// pieces of a shard, augmented on the fly, collated into (input, target, mask) batches, each a
// pure function of (seed, example index), so any number of loader workers gives the same
// batches. Evaluation: every piece, in order, cut into consecutive windows. docs/data.md.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "bachgen/data/token_shard.h"
#include "bachgen/tokenize/augment.h"
#include "bachgen/tokenize/conditions.h"

namespace bachgen::data {

// A batch: the model reads `input` and predicts `target` (input shifted by one token); `mask`
// is 1 where the target is a real token and 0 on padding. All (B, L); int64, int64, float.
// `offset` (B) int64 is where each window starts in its piece (0 = at the BOS), so a model
// can use absolute positions (voice = position mod 4 in the chorale vocabularies).
// `conditions` (B, 4) int64, defined when the dataset has them: each row's piece as
// (steps_per_bar, bar_phase, steps, key) of tokenize::PieceConditions (key transposed with the
// window; dropped parts unknown: 0, 0, 0, -1).
struct TokenBatch {
  torch::Tensor input;
  torch::Tensor target;
  torch::Tensor mask;
  torch::Tensor offset;
  torch::Tensor conditions;
};

// (N, 4) int64 rows of PieceConditions, as TokenBatch::conditions.
torch::Tensor conditions_tensor(const std::vector<tokenize::PieceConditions>& rows);

struct WindowOptions {
  int64_t length = 256;     // L: tokens per example
  uint64_t seed = 0;        // with the example index, decides everything about an example
  bool augment = true;      // transposition (and time-stretch for performance tokens)
  int max_transpose = 6;    // chorales: +-6 within the corpus voice ranges; performance: +-3
  std::vector<double> stretch = {0.95, 0.975, 1.0, 1.025, 1.05};  // performance only
  size_t examples_per_epoch = 0;  // 0: total tokens / L
  // Per piece (data/piece_conditions.h), or empty for batches without conditions. With
  // probability `condition_dropout` a window's conditions are all unknown; else each of meter,
  // length and key is unknown with that probability, so that one model learns every mix.
  std::vector<tokenize::PieceConditions> conditions;
  double condition_dropout = 0.0;
};

class WindowDataset
    : public torch::data::datasets::BatchDataset<WindowDataset, TokenBatch, std::vector<size_t>> {
 public:
  // `corpus_ranges`: the voice ranges transposition must respect (chorale vocabularies; the
  // prepare manifest's voice_ranges, or computed from the shard when not given).
  WindowDataset(std::shared_ptr<const TokenShard> shard, WindowOptions options,
                std::optional<tokenize::VoiceRanges> corpus_ranges = std::nullopt);

  TokenBatch get_batch(std::vector<size_t> indices) override;
  torch::optional<size_t> size() const override { return examples_; }

  // The L + 1 tokens of example `index` (input is the first L, target the last L), how many
  // of them are real (the rest is PAD), and where the window starts in its piece. Public for
  // tests and benchmarks.
  std::vector<int32_t> example(size_t index, size_t* real_tokens, size_t* start = nullptr,
                               tokenize::PieceConditions* conditions = nullptr) const;

 private:
  std::shared_ptr<const TokenShard> shard_;
  WindowOptions options_;
  tokenize::VoiceRanges ranges_;
  std::vector<uint64_t> cumulative_;  // tokens in pieces [0, i]
  bool chorale_;
  size_t examples_;
};

// Whole pieces in order, for evaluation: each piece is cut into windows of L targets (window k
// reads tokens [kL, kL + L) and predicts [kL + 1, kL + L + 1)), batched by `batch`, each batch
// as wide as its longest window (shorter ones padded and masked). Every target token of the shard appears in exactly one window (the model sees no
// context across window boundaries).
// With `conditions` (one per piece), each window's batch row carries its piece's.
std::vector<TokenBatch> evaluation_batches(const TokenShard& shard, int64_t length, int64_t batch,
                                           const std::vector<tokenize::PieceConditions>* conditions = nullptr);

}  // namespace bachgen::data
