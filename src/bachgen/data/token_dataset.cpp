// Window sampling, augmentation and collation for the token datasets.
#include "bachgen/data/token_dataset.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "bachgen/tokenize/performance388.h"
#include "bachgen/runtime/splitmix.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::data {

namespace {

// SplitMix64: a small, well-mixed generator; one per example, seeded from (seed, index).
using SplitMix = runtime::SplitMix64;

int32_t pad_of(VocabId vocab) {
  return vocab == VocabId::kPerformance388 ? tokenize::PerformanceVocab::kPad
                                           : tokenize::ChoraleTokens::kPad;
}

}  // namespace

WindowDataset::WindowDataset(std::shared_ptr<const TokenShard> shard, WindowOptions options,
                             std::optional<tokenize::VoiceRanges> corpus_ranges)
    : shard_(std::move(shard)), options_(std::move(options)) {
  TORCH_CHECK(shard_ && shard_->pieces() > 0, "WindowDataset: the shard has no pieces");
  TORCH_CHECK(options_.length > 0, "WindowDataset: window length must be positive");
  chorale_ = shard_->vocab != VocabId::kPerformance388;
  uint64_t total = 0;
  for (size_t i = 0; i < shard_->pieces(); ++i) {
    total += shard_->piece_length(i);
    cumulative_.push_back(total);
    if (chorale_ && !corpus_ranges) {
      std::vector<int32_t> piece(shard_->piece(i), shard_->piece(i) + shard_->piece_length(i));
      ranges_.include(tokenize::chorale_voice_ranges(piece.data(), piece.size(), 1));
    }
  }
  TORCH_CHECK(total > 0, "WindowDataset: the shard has no tokens");
  if (corpus_ranges) ranges_ = *corpus_ranges;
  examples_ = options_.examples_per_epoch > 0
                  ? options_.examples_per_epoch
                  : std::max<size_t>(1, total / static_cast<size_t>(options_.length));
}

std::vector<int32_t> WindowDataset::example(size_t index, size_t* real_tokens,
                                            size_t* start_out, tokenize::PieceConditions* conditions_out) const {
  SplitMix rng{options_.seed * 0x100000001B3ull ^ (index + 1) * 0x9E3779B97F4A7C15ull};
  // A token position uniformly over the shard: longer pieces give more windows.
  const uint64_t position = rng.below(cumulative_.back());
  const size_t piece = static_cast<size_t>(
      std::upper_bound(cumulative_.begin(), cumulative_.end(), position) - cumulative_.begin());
  const size_t piece_length = shard_->piece_length(piece);
  const size_t want = static_cast<size_t>(options_.length) + 1;
  size_t start = 0;
  if (piece_length > want) {
    start = static_cast<size_t>(rng.below(piece_length - want + 1));
    // Chorale windows start at the BOS or on a soprano token (a step boundary).
    if (chorale_ && start > 0) start = 1 + (start - 1) / music::kVoices * music::kVoices;
  }
  const uint16_t* tokens = shard_->piece(piece);
  std::vector<int32_t> window(tokens + start, tokens + std::min(piece_length, start + want));

  int transposed = 0;
  if (options_.augment) {
    if (chorale_) {
      const std::vector<int32_t> whole(tokens, tokens + piece_length);
      const auto [lo, hi] = tokenize::allowed_transpositions(
          tokenize::chorale_voice_ranges(whole.data(), whole.size(), 1), ranges_,
          options_.max_transpose);
      const int k = lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1)));
      tokenize::transpose_chorale_tokens(window.data(), window.size(), k);
      transposed = k;
    } else {
      const int span = std::min(options_.max_transpose, 3);
      const int k = -span + static_cast<int>(rng.below(static_cast<uint64_t>(2 * span + 1)));
      tokenize::transpose_performance_tokens(window.data(), window.size(), k);  // skipped if out of range
      if (!options_.stretch.empty()) {
        const double factor = options_.stretch[rng.below(options_.stretch.size())];
        if (factor != 1.0) {
          window = tokenize::stretch_performance_tokens(window, factor);
          if (window.size() > want) window.resize(want);
        }
      }
    }
  }
  *real_tokens = window.size();
  if (start_out) *start_out = start;
  if (conditions_out) {
    // Drawn after everything else, so that the tokens of an example do not depend on them.
    tokenize::PieceConditions c;
    if (piece < options_.conditions.size()) {
      c = options_.conditions[piece];
      c.key = tokenize::transposed_key(c.key, transposed);
      const double p = options_.condition_dropout;
      if (p > 0) {
        auto drop = [&rng, p] { return rng.uniform() < p; };
        const bool all = drop();
        if (drop() || all) c.steps_per_bar = 0, c.bar_phase = 0;
        if (drop() || all) c.steps = 0;
        if (drop() || all) c.key = -1;
      }
    }
    *conditions_out = c;
  }
  window.resize(want, pad_of(shard_->vocab));
  return window;
}

namespace {

// One example of a batch: L + 1 tokens (`real` of them not padding), from position `start`.
struct Window {
  std::vector<int32_t> tokens;
  size_t real = 0;
  size_t start = 0;
  tokenize::PieceConditions conditions;
};

// The collate: input = first L tokens, target = last L, mask = 1 on real targets.
TokenBatch collate(const Window* windows, int64_t count, int64_t length, bool with_conditions) {
  TokenBatch batch{torch::empty({count, length}, torch::kInt64),
                   torch::empty({count, length}, torch::kInt64),
                   torch::zeros({count, length}, torch::kFloat32), torch::empty({count}, torch::kInt64), torch::Tensor()};
  auto input = batch.input.accessor<int64_t, 2>();
  auto target = batch.target.accessor<int64_t, 2>();
  auto mask = batch.mask.accessor<float, 2>();
  auto offset = batch.offset.accessor<int64_t, 1>();
  for (int64_t i = 0; i < count; ++i) {
    const Window& w = windows[i];
    offset[i] = static_cast<int64_t>(w.start);
    for (int64_t t = 0; t < length; ++t) {
      input[i][t] = w.tokens[static_cast<size_t>(t)];
      target[i][t] = w.tokens[static_cast<size_t>(t) + 1];
      mask[i][t] = static_cast<size_t>(t) + 1 < w.real ? 1.0f : 0.0f;
    }
  }
  if (with_conditions) {
    std::vector<tokenize::PieceConditions> rows;
    for (int64_t i = 0; i < count; ++i) rows.push_back(windows[i].conditions);
    batch.conditions = conditions_tensor(rows);
  }
  return batch;
}

}  // namespace

TokenBatch WindowDataset::get_batch(std::vector<size_t> indices) {
  std::vector<Window> windows(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    windows[i].tokens = example(indices[i], &windows[i].real, &windows[i].start, &windows[i].conditions);
  }
  return collate(windows.data(), static_cast<int64_t>(windows.size()), options_.length, !options_.conditions.empty());
}

torch::Tensor conditions_tensor(const std::vector<tokenize::PieceConditions>& rows) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(rows.size()), 4}, torch::kInt64);
  auto a = t.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i) {
    a[static_cast<int64_t>(i)][0] = rows[i].steps_per_bar;
    a[static_cast<int64_t>(i)][1] = rows[i].bar_phase;
    a[static_cast<int64_t>(i)][2] = rows[i].steps;
    a[static_cast<int64_t>(i)][3] = rows[i].key;
  }
  return t;
}

std::vector<TokenBatch> evaluation_batches(const TokenShard& shard, int64_t length, int64_t batch,
                                           const std::vector<tokenize::PieceConditions>* conditions) {
  if (conditions && conditions->size() != shard.pieces()) {
    throw std::invalid_argument("evaluation_batches: " + std::to_string(conditions->size()) + " conditions for " +
                                std::to_string(shard.pieces()) + " pieces");
  }
  TORCH_CHECK(length > 0 && batch > 0, "evaluation_batches: length and batch must be positive");
  const int32_t pad = pad_of(shard.vocab);
  std::vector<Window> windows;
  for (size_t p = 0; p < shard.pieces(); ++p) {
    const size_t n = shard.piece_length(p);
    const uint16_t* tokens = shard.piece(p);
    for (size_t start = 0; start + 1 < n; start += static_cast<size_t>(length)) {
      const size_t end = std::min(n, start + static_cast<size_t>(length) + 1);
      Window w{std::vector<int32_t>(tokens + start, tokens + end), end - start, start,
               conditions ? (*conditions)[p] : tokenize::PieceConditions{}};
      w.tokens.resize(static_cast<size_t>(length) + 1, pad);
      windows.push_back(std::move(w));
    }
  }
  std::vector<TokenBatch> batches;
  for (size_t first = 0; first < windows.size(); first += static_cast<size_t>(batch)) {
    const int64_t count = std::min<int64_t>(batch, static_cast<int64_t>(windows.size() - first));
    // Columns past the longest window of the batch would be padding only: leave them out.
    size_t longest = 2;
    for (int64_t i = 0; i < count; ++i) longest = std::max(longest, windows[first + static_cast<size_t>(i)].real);
    batches.push_back(collate(windows.data() + first, count, static_cast<int64_t>(longest) - 1, conditions != nullptr));
  }
  return batches;
}

}  // namespace bachgen::data
