// Whole-piece evaluation.
#include "bachgen/train/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/data/chorale_corpus.h"
#include "bachgen/data/infill_dataset.h"
#include "bachgen/data/token_dataset.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/model/fast_decode.h"
#include "bachgen/model/infill_order.h"
#include "bachgen/model/model_file.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::train {

namespace {

// Sums where `mask` is 1: the NLL of the targets (nats), the argmax hits, and the count.
struct BatchScore {
  double nll = 0, correct = 0, count = 0;
};
BatchScore score_batch(const torch::Tensor& raw_logits, const torch::Tensor& target, const torch::Tensor& raw_mask) {
  const torch::Tensor logits = raw_logits.to(torch::kFloat64);  // (B, L, V)
  const torch::Tensor nll = -torch::log_softmax(logits, -1).gather(-1, target.unsqueeze(-1)).squeeze(-1);
  const torch::Tensor mask = raw_mask.to(torch::kFloat64);
  return {(nll * mask).sum().item<double>(), ((logits.argmax(-1) == target).to(torch::kFloat64) * mask).sum().item<double>(),
          mask.sum().item<double>()};
}

// The per-token figures from the sums.
EvalResult finish(EvalResult r, double correct, tokenize::VocabId vocab) {
  if (r.tokens == 0) throw std::runtime_error("no tokens to score");
  r.nll_per_token = r.nll / static_cast<double>(r.tokens);
  r.nll_per_step = vocab == tokenize::VocabId::kPerformance388 ? 0.0 : 4 * r.nll_per_token;
  r.accuracy = correct / static_cast<double>(r.tokens);
  r.perplexity = std::exp(r.nll_per_token);
  return r;
}

}  // namespace

EvalResult evaluate_shard(model::SequenceModelImpl& m, const data::TokenShard& shard, int64_t window,
                          const std::vector<tokenize::PieceConditions>* conditions) {
  if (window < 2) throw std::invalid_argument("the evaluation window must be at least 2 tokens");
  torch::NoGradGuard no_grad;
  m.eval();
  EvalResult r;
  double correct = 0;
  for (size_t p = 0; p < shard.pieces(); ++p) r.pieces += shard.piece_length(p) >= 2;
  // Consecutive windows over every piece (data.md): every target token exactly once. Batches
  // hold about 2M attention logits per head (B * window^2), so that the (B, H, T, T) tensors
  // stay in the allocator's reused memory instead of being mapped (and page-faulted) anew.
  // The LSTM has no attention tensors: it gets full batches (at batch 1 its matrix products
  // are matrix-vector products, and scoring JSB's test split took minutes instead of seconds).
  const int64_t batch = m.kind() == model::ModelKind::kMusicLstm ? 64 : std::clamp<int64_t>((int64_t{1} << 21) / (window * window), 1, 64);
  const std::vector<torch::Tensor> parameters = m.parameters();
  const torch::Device device = parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
  for (data::TokenBatch b : data::evaluation_batches(shard, window, batch, conditions)) {
    if (!device.is_cpu()) {  // the model's device (CUDA when training there)
      b.input = b.input.to(device);
      b.target = b.target.to(device);
      b.mask = b.mask.to(device);
      b.offset = b.offset.to(device);
      if (b.conditions.defined()) b.conditions = b.conditions.to(device);
    }
    const BatchScore score = score_batch(m.forward(b.input, b.offset, b.conditions), b.target, b.mask);
    r.nll += score.nll;
    correct += score.correct;
    r.tokens += static_cast<int64_t>(score.count);
  }
  return finish(r, static_cast<double>(correct), shard.vocab);
}

EvalResult evaluate_shard_decoded(model::SequenceModelImpl& m, const data::TokenShard& shard, int64_t window,
                                  const std::string& weights, const std::vector<tokenize::PieceConditions>* conditions) {
  if (conditions && conditions->size() != shard.pieces()) throw std::invalid_argument("evaluate_shard_decoded: one condition per piece");
  if (window < 2) throw std::invalid_argument("the evaluation window must be at least 2 tokens");
  torch::NoGradGuard no_grad;
  m.eval();
  const std::unique_ptr<model::FastDecoder> decoder = model::make_fast_decoder(m, model::parse_decode_weights(weights));
  if (!decoder) throw std::runtime_error("the fast decoder covers causal transformers and LSTMs on the CPU, not this " + std::string(model::model_kind_name(m.kind())) + " model");
  EvalResult r;
  int64_t correct = 0;
  for (size_t p = 0; p < shard.pieces(); ++p) {
    const size_t n = shard.piece_length(p);
    r.pieces += n >= 2;
    const std::vector<int32_t> tokens(shard.piece(p), shard.piece(p) + n);
    decoder->set_conditions(conditions ? (*conditions)[p] : tokenize::PieceConditions{});
    // evaluation_batches' windows: [start, start + window] at offset start.
    for (size_t start = 0; start + 1 < n; start += static_cast<size_t>(window)) {
      const size_t end = std::min(n, start + static_cast<size_t>(window) + 1);
      const model::SequenceScore s = model::score_sequence(*decoder, tokens.data() + start, end - start, static_cast<int64_t>(start));
      r.nll += s.nll;
      correct += s.correct;
      r.tokens += s.count;
    }
  }
  return finish(r, static_cast<double>(correct), shard.vocab);
}

namespace {

// Grid tokens of a satb16 piece: BOS, whole steps, EOS -> the steps.
std::vector<int32_t> grid_tokens(const data::TokenShard& shard, size_t p) {
  const uint16_t* t = shard.piece(p);
  size_t n = shard.piece_length(p);
  size_t first = 0;
  if (n > 0 && t[0] == tokenize::ChoraleTokens::kBos) first = 1;
  if (n > first && t[n - 1] == tokenize::ChoraleTokens::kEos) --n;
  std::vector<int32_t> out(t + first, t + n);
  out.resize(out.size() / 4 * 4);
  return out;
}

// Scores the rows' masked targets: adds NLL, correct and count.
// `conditions`: the piece's, as PieceConditions (1, 4), or undefined.
void score_rows(model::SequenceModelImpl& m, const std::vector<std::vector<int32_t>>& rows,
                const std::vector<std::vector<uint8_t>>& hidden, const std::vector<std::vector<uint8_t>>& scored,
                const torch::Tensor& conditions, double& nll, double& correct, int64_t& count) {
  data::TokenBatch b = data::infill_rows(rows, hidden);
  auto mask_rows = b.mask.accessor<float, 2>();
  for (size_t r = 0; r < scored.size(); ++r) {
    for (size_t i = 0; i < scored[r].size(); ++i) {
      if (!scored[r][i]) mask_rows[static_cast<int64_t>(r)][static_cast<int64_t>(i)] = 0.0f;
    }
  }
  const torch::Tensor c = conditions.defined() ? conditions.expand({b.input.size(0), 4}) : torch::Tensor();
  const BatchScore score = score_batch(m.forward(b.input, torch::Tensor(), c), b.target, b.mask);  // logits (R, 4S, V)
  nll += score.nll;
  correct += score.correct;
  count += static_cast<int64_t>(score.count);
}

}  // namespace

EvalResult evaluate_harmonization(model::SequenceModelImpl& m, const data::TokenShard& shard, bool chained,
                                  const std::vector<tokenize::PieceConditions>* conditions, bool sampler_order) {
  if (shard.vocab != tokenize::VocabId::kSatb16) {
    throw std::runtime_error(std::string("the conditioning model is scored on satb16 data, not ") + tokenize::vocab_name(shard.vocab));
  }
  if (conditions && conditions->size() != shard.pieces()) throw std::invalid_argument("evaluate_harmonization: one condition per piece");
  torch::NoGradGuard no_grad;
  m.eval();
  EvalResult r;
  r.harmonization = true;
  double nll_mf = 0, correct_mf = 0, nll_ch = 0, correct_ch = 0, nll_time = 0, correct_time = 0;
  int64_t count_mf = 0, count_ch = 0, count_time = 0;
  for (size_t p = 0; p < shard.pieces(); ++p) {
    const std::vector<int32_t> grid = grid_tokens(shard, p);
    if (grid.empty()) continue;
    ++r.pieces;
    const torch::Tensor c = conditions ? data::conditions_tensor({(*conditions)[p]}) : torch::Tensor();  // (1, 4)
    const size_t steps = grid.size() / 4;
    std::vector<uint8_t> atb(grid.size());
    for (size_t i = 0; i < grid.size(); ++i) atb[i] = i % 4 != 0;
    score_rows(m, {grid}, {atb}, {atb}, c, nll_mf, correct_mf, count_mf);
    if (!chained) continue;
    // Rows of the piece, each with its hidden and scored variables, scored in batches: `last`
    // scores what is queued into the given sums.
    const size_t per_batch = std::clamp<size_t>(8192 / std::max<size_t>(steps, 1), 1, 64);
    std::vector<std::vector<int32_t>> rows;
    std::vector<std::vector<uint8_t>> hidden, scored;
    auto queue = [&](const std::vector<uint8_t>& hidden_row, std::vector<uint8_t> scored_row, bool last, double& nll,
                     double& correct, int64_t& count) {
      rows.push_back(grid);
      hidden.push_back(hidden_row);
      scored.push_back(std::move(scored_row));
      if (rows.size() < per_batch && !last) return;
      score_rows(m, rows, hidden, scored, c, nll, correct, count);
      rows.clear();
      hidden.clear();
      scored.clear();
    };
    // In time: a row per (step, voice), everything from that variable on hidden (the soprano
    // never), scored on that variable alone. The last variable is a bass (i % 4 == 3).
    {
      std::vector<uint8_t> hidden_now = atb;
      for (size_t i = 1; i < grid.size(); ++i) {
        if (i % 4 == 0) continue;
        std::vector<uint8_t> sc(grid.size(), 0);
        sc[i] = 1;
        queue(hidden_now, std::move(sc), i + 1 == grid.size(), nll_time, correct_time, count_time);
        hidden_now[i] = 0;
      }
    }
    if (!sampler_order) continue;
    // The sampler's factorization (generate/infill.h): A, T, B in a seeded random order, in
    // one chunk per step; a row per chunk, scored on the chunk, with the chunks before it known.
    std::vector<size_t> variables;
    for (size_t i = 0; i < grid.size(); ++i) {
      if (i % 4 != 0) variables.push_back(i);
    }
    runtime::SplitMix64 rng(1 + p);
    const std::vector<std::vector<size_t>> chunks = model::infill_schedule(variables, static_cast<int64_t>(steps), rng);
    std::vector<uint8_t> hidden_now = atb;
    for (size_t k = 0; k < chunks.size(); ++k) {
      std::vector<uint8_t> sc(grid.size(), 0);
      for (size_t i : chunks[k]) sc[i] = 1;
      queue(hidden_now, std::move(sc), k + 1 == chunks.size(), nll_ch, correct_ch, count_ch);
      for (size_t i : chunks[k]) hidden_now[i] = 0;
    }
  }
  if (count_mf == 0) throw std::runtime_error("no alto, tenor or bass notes to score");
  r.nll_mean_field = nll_mf / static_cast<double>(count_mf);
  r.tokens = count_mf;
  if (chained) {
    r.nll_in_time = nll_time / static_cast<double>(count_time);
    r.accuracy_in_time = correct_time / static_cast<double>(count_time);
    if (sampler_order) {
      r.nll_chained = nll_ch / static_cast<double>(count_ch);
      r.nll = nll_ch;
      r.accuracy = correct_ch / static_cast<double>(count_ch);
    } else {
      r.nll = nll_time;
      r.accuracy = r.accuracy_in_time;
    }
  } else {
    r.nll = nll_mf;
    r.accuracy = correct_mf / static_cast<double>(count_mf);
  }
  r.nll_per_token = r.nll / static_cast<double>(r.tokens);
  r.nll_per_step = 3 * r.nll_per_token;
  r.perplexity = std::exp(r.nll_per_token);
  return r;
}

double infill_validation_loss(model::SequenceModelImpl& m, std::shared_ptr<const data::TokenShard> shard, int64_t length,
                              int64_t batch) {
  torch::NoGradGuard no_grad;
  m.eval();
  data::WindowOptions o;
  o.length = length;
  o.seed = 20261129;  // fixed: every validation sees the same windows and hidden sets
  o.augment = false;
  data::InfillDataset dataset(shard, o);
  size_t tokens = 0;
  for (size_t p = 0; p < shard->pieces(); ++p) tokens += shard->piece_length(p);
  const size_t examples = std::max<size_t>(64, 4 * tokens / static_cast<size_t>(length));
  double nll = 0, count = 0;
  for (size_t first = 0; first < examples; first += static_cast<size_t>(batch)) {
    std::vector<size_t> indices;
    for (size_t i = first; i < std::min(examples, first + static_cast<size_t>(batch)); ++i) indices.push_back(i);
    const data::TokenBatch b = dataset.get_batch(indices);
    const BatchScore score = score_batch(m.forward(b.input, b.offset), b.target, b.mask);
    nll += score.nll;
    count += score.count;
  }
  if (count == 0) throw std::runtime_error("no hidden variables to score in the validation windows");
  return nll / count;
}

}  // namespace bachgen::train
