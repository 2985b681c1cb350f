// Hidden-variable examples for the conditioning model.
#include "bachgen/data/infill_dataset.h"

#include <algorithm>
#include <stdexcept>

#include "bachgen/runtime/splitmix.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::data {

namespace {

constexpr size_t kVoices = 4;
using tokenize::ChoraleTokens;

using SplitMix = runtime::SplitMix64;

WindowOptions with_length_checked(WindowOptions o) {
  if (o.length <= 0 || o.length % static_cast<int64_t>(kVoices) != 0) {
    throw std::invalid_argument("the conditioning model trains on whole steps: --length must be a multiple of 4, not " +
                                std::to_string(o.length));
  }
  return o;
}

std::shared_ptr<const TokenShard> satb16_checked(std::shared_ptr<const TokenShard> shard) {
  if (shard && shard->vocab != VocabId::kSatb16) {
    throw std::invalid_argument(std::string("the conditioning model trains on satb16 data, not ") + vocab_name(shard->vocab));
  }
  return shard;
}

}  // namespace

InfillDataset::InfillDataset(std::shared_ptr<const TokenShard> shard, WindowOptions options)
    : windows_(satb16_checked(std::move(shard)), with_length_checked(options)), options_(options) {}

InfillExample InfillDataset::example(size_t index) const {
  size_t real = 0, start = 0;
  // L + 1 tokens from the BOS or from a soprano token; the grid part is the L tokens after a
  // BOS, else the first L.
  InfillExample ex;
  const std::vector<int32_t> window = windows_.example(index, &real, &start, &ex.conditions);
  const size_t length = static_cast<size_t>(options_.length);
  const size_t skip = start == 0 ? 1 : 0;
  ex.start = start == 0 ? 0 : start - 1;
  ex.tokens.assign(window.begin() + static_cast<std::ptrdiff_t>(skip),
                   window.begin() + static_cast<std::ptrdiff_t>(skip + length));
  size_t steps_real = 0;  // whole steps of the piece inside the window
  while (steps_real * kVoices < length) {
    const size_t t = steps_real * kVoices;
    bool inside = true;
    for (size_t v = 0; v < kVoices; ++v) {
      const int32_t x = ex.tokens[t + v];
      inside = inside && x != ChoraleTokens::kEos && x != ChoraleTokens::kPad && x != ChoraleTokens::kBos;
    }
    if (!inside) break;
    ++steps_real;
  }
  for (size_t t = steps_real * kVoices; t < length; ++t) ex.tokens[t] = ChoraleTokens::kEos;
  ex.hidden.assign(length, 0);
  if (steps_real == 0) return ex;

  SplitMix rng{options_.seed * 0xD1B54A32D192ED03ull ^ (index + 1) * 0x8CB92BA72F3D8DD7ull};
  const double pick = rng.uniform();
  const double rate = 1.0 - rng.uniform();  // (0, 1]
  const size_t n = steps_real * kVoices;
  if (pick < 0.5) {
    ex.pattern = HidePattern::kOrderless;
    for (size_t i = 0; i < n; ++i) ex.hidden[i] = rng.uniform() < rate;
  } else if (pick < 0.8) {
    ex.pattern = HidePattern::kHarmonize;
    const bool all = rng.below(6) == 0;
    for (size_t i = 0; i < n; ++i) ex.hidden[i] = i % kVoices != 0 && (all || rng.uniform() < rate);
  } else {
    ex.pattern = HidePattern::kBlock;
    const size_t span = 1 + static_cast<size_t>(rng.below(steps_real));
    const size_t first = static_cast<size_t>(rng.below(steps_real - span + 1));
    const uint64_t voices = 1 + rng.below(15);  // a non-empty subset of SATB, as bits
    for (size_t i = 0; i < n; ++i) {
      const size_t step = i / kVoices, voice = i % kVoices;
      const bool in_block = step >= first && step < first + span && ((voices >> voice) & 1u);
      ex.hidden[i] = in_block || rng.uniform() < rate / 4;
    }
  }
  // At least one variable to predict.
  if (std::none_of(ex.hidden.begin(), ex.hidden.begin() + static_cast<std::ptrdiff_t>(n), [](uint8_t h) { return h; })) {
    ex.hidden[static_cast<size_t>(rng.below(n))] = 1;
  }
  return ex;
}

TokenBatch infill_rows(const std::vector<std::vector<int32_t>>& tokens,
                       const std::vector<std::vector<uint8_t>>& hidden) {
  const int64_t rows = static_cast<int64_t>(tokens.size());
  size_t width = 0;
  for (const auto& row : tokens) width = std::max(width, row.size());
  TORCH_CHECK(width % kVoices == 0, "infill rows must hold whole steps");
  const int64_t w = static_cast<int64_t>(width);
  TokenBatch b{torch::full({rows, w}, ChoraleTokens::kEos, torch::kInt64),
               torch::full({rows, w}, ChoraleTokens::kPad, torch::kInt64), torch::zeros({rows, w}, torch::kFloat32),
               torch::zeros({rows}, torch::kInt64), torch::Tensor()};
  auto input = b.input.accessor<int64_t, 2>();
  auto target = b.target.accessor<int64_t, 2>();
  auto mask = b.mask.accessor<float, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    const auto& row = tokens[static_cast<size_t>(r)];
    const auto& hide = hidden[static_cast<size_t>(r)];
    TORCH_CHECK(row.size() % kVoices == 0 && hide.size() == row.size(), "infill rows must hold whole steps");
    for (size_t i = 0; i < row.size(); ++i) {
      const bool scored = hide[i] && row[i] != ChoraleTokens::kEos;
      target[r][static_cast<int64_t>(i)] = row[i];
      input[r][static_cast<int64_t>(i)] = hide[i] ? ChoraleTokens::kPad : row[i];
      mask[r][static_cast<int64_t>(i)] = scored ? 1.0f : 0.0f;
    }
  }
  return b;
}

TokenBatch InfillDataset::get_batch(const std::vector<size_t>& indices) const {
  std::vector<std::vector<int32_t>> tokens;
  std::vector<std::vector<uint8_t>> hidden;
  std::vector<int64_t> starts;
  std::vector<tokenize::PieceConditions> conditions;
  for (size_t index : indices) {
    InfillExample ex = example(index);
    tokens.push_back(std::move(ex.tokens));
    hidden.push_back(std::move(ex.hidden));
    starts.push_back(static_cast<int64_t>(ex.start));
    conditions.push_back(ex.conditions);
  }
  TokenBatch b = infill_rows(tokens, hidden);
  b.offset = torch::tensor(starts, torch::kInt64);
  if (!options_.conditions.empty()) b.conditions = conditions_tensor(conditions);
  return b;
}

}  // namespace bachgen::data
