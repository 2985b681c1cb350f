// The generator: the fast decoder a row at a time, or LibTorch's step (or forward) as one batch.
#include "bachgen/generate/generator.h"

#include "bachgen/generate/errors.h"

#include <torch/torch.h>

#include <chrono>
#include <stdexcept>

#include "bachgen/model/sequence_model.h"
#include "bachgen/music/voice_leading.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::generate {

namespace {

// Row r's generator: a SplitMix64 seed derived from (seed, r), so that a row's stream does not
// depend on how many rows are drawn.
Rng row_rng(uint64_t seed, int row) { return Rng(seed ^ (0xda942042e4dd58b5ULL * static_cast<uint64_t>(row + 1))); }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Rows that finished early carry filler after their EOS: cut it.
void cut_after_eos(std::vector<std::vector<int32_t>>& rows, size_t primer_length, int32_t eos) {
  for (auto& row : rows) {
    for (size_t i = primer_length; i < row.size(); ++i) {
      if (row[i] == eos) {
        row.resize(i + 1);
        break;
      }
    }
  }
}

// The fast decoder draws the rows one after another: at batch 1 it outruns LibTorch's batched
// step (docs/benchmarks.md), and each row's stream is its own, so the rows are the batch's.
std::vector<std::vector<int32_t>> generate_fast(model::FastDecoder& fast, const std::vector<int32_t>& primer,
                                               const GenerateOptions& o, GenerateStats* stats,
                                               std::chrono::steady_clock::time_point start) {
  const size_t vocab = static_cast<size_t>(fast.vocab_size());
  std::vector<uint8_t> allowed(vocab);
  std::vector<std::vector<int32_t>> rows;
  int64_t calls = 0, produced = 0;
  double prefill = 0;
  for (int r = 0; r < o.count; ++r) {
    const auto row_start = std::chrono::steady_clock::now();
    Rng rng = row_rng(o.seed, r);
    std::vector<int32_t> row = primer;
    row.reserve(primer.size() + static_cast<size_t>(o.max_new_tokens));
    fast.set_conditions(o.conditions.value_or(tokenize::PieceConditions{}));
    fast.reset(/*offset=*/0, static_cast<int64_t>(primer.size()) + o.max_new_tokens);
    const float* logits = nullptr;
    for (int32_t t : primer) logits = fast.step(t), ++calls;
    prefill += seconds_since(r == 0 ? start : row_start);  // the first row's includes making the decoder
    for (int64_t k = 0; k < o.max_new_tokens; ++k) {
      if (o.time_limit_seconds > 0 && seconds_since(start) > o.time_limit_seconds) throw TimeLimitExceeded(o.time_limit_seconds);
      std::fill(allowed.begin(), allowed.end(), uint8_t{1});
      if (o.constraint) o.constraint(row, allowed.data());
      const int token = sample(logits, vocab, o.sampling, rng, allowed.data());
      row.push_back(token);
      ++produced;
      if (token == o.eos || k + 1 == o.max_new_tokens) break;
      logits = fast.step(token), ++calls;
    }
    rows.push_back(std::move(row));
  }
  if (stats != nullptr) {
    stats->steps = calls;
    stats->new_tokens = produced;
    stats->prefill_seconds = prefill;
  }
  return rows;
}

}  // namespace

std::vector<std::vector<int32_t>> generate_tokens(model::SequenceModelImpl& m, const std::vector<int32_t>& primer,
                                                  const GenerateOptions& o, GenerateStats* stats) {
  if (primer.empty()) throw std::invalid_argument("generation needs a primer of at least one token (BOS)");
  if (o.count < 1) throw std::invalid_argument("--count must be at least 1");
  const auto start = std::chrono::steady_clock::now();
  const int64_t vocab = m.vocab_size();
  for (int32_t t : primer) {
    if (t < 0 || t >= vocab) throw std::invalid_argument("primer token " + std::to_string(t) + " is outside the vocabulary");
  }
  torch::InferenceMode inference;
  m.eval();
  if (o.use_cache && o.fast_decoder) {
    std::unique_ptr<model::FastDecoder> made;
    model::FastDecoder* fast = o.fast;
    if (fast == nullptr) fast = (made = model::make_fast_decoder(m, o.decode_weights)).get();
    if (fast != nullptr) {
      std::vector<std::vector<int32_t>> rows = generate_fast(*fast, primer, o, stats, start);
      if (stats != nullptr) {
        stats->decoder = std::string("fast ") + model::decode_weights_name(o.decode_weights);
        stats->seconds = seconds_since(start);
      }
      return rows;
    }
  }
  const int n = o.count;
  std::vector<std::vector<int32_t>> rows(static_cast<size_t>(n), primer);
  std::vector<Rng> rngs;
  for (int r = 0; r < n; ++r) rngs.push_back(row_rng(o.seed, r));
  std::vector<bool> done(static_cast<size_t>(n), false);
  std::vector<uint8_t> allowed(static_cast<size_t>(vocab));
  model::DecodeState state;
  if (o.conditions) {
    const tokenize::PieceConditions& c = *o.conditions;
    state.conditions = torch::tensor({int64_t{c.steps_per_bar}, int64_t{c.bar_phase}, int64_t{c.steps}, int64_t{c.key}}, torch::kInt64)
                           .view({1, 4})
                           .expand({n, 4})
                           .contiguous();
  }
  torch::Tensor logits;  // (N, V) for the next position
  int64_t calls = 0;
  if (o.use_cache) {
    // Feed the primer one token at a time; the last call gives the first new token's logits.
    for (size_t i = 0; i < primer.size(); ++i) {
      logits = m.step(torch::full({n, 1}, primer[i], torch::kInt64), state);
      ++calls;
    }
  }
  const double prefill = seconds_since(start);
  int64_t produced = 0;
  for (int64_t k = 0; k < o.max_new_tokens; ++k) {
    if (o.time_limit_seconds > 0 && seconds_since(start) > o.time_limit_seconds) throw TimeLimitExceeded(o.time_limit_seconds);
    if (!o.use_cache) {
      std::vector<int64_t> flat;
      for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
      const torch::Tensor tokens = torch::tensor(flat, torch::kInt64).view({n, static_cast<int64_t>(rows[0].size())});
      logits = m.forward(tokens, torch::Tensor(), state.conditions).select(1, tokens.size(1) - 1);
      ++calls;
    }
    const torch::Tensor host = logits.to(torch::kFloat32).contiguous();
    const float* data = host.data_ptr<float>();
    std::vector<int64_t> next(static_cast<size_t>(n), 0);
    bool all_done = true;
    for (int r = 0; r < n; ++r) {
      auto& row = rows[static_cast<size_t>(r)];
      if (done[static_cast<size_t>(r)]) {
        next[static_cast<size_t>(r)] = row.back();  // keeps the batch shape; never read
        row.push_back(row.back());
        continue;
      }
      std::fill(allowed.begin(), allowed.end(), uint8_t{1});
      if (o.constraint) o.constraint(row, allowed.data());
      const int token = sample(data + r * vocab, static_cast<size_t>(vocab), o.sampling, rngs[static_cast<size_t>(r)],
                               allowed.data());
      row.push_back(token);
      next[static_cast<size_t>(r)] = token;
      ++produced;
      if (token == o.eos) done[static_cast<size_t>(r)] = true;
      all_done = all_done && done[static_cast<size_t>(r)];
    }
    if (all_done || k + 1 == o.max_new_tokens) break;
    if (o.use_cache) {
      logits = m.step(torch::tensor(next, torch::kInt64).view({n, 1}), state);
      ++calls;
    }
  }
  cut_after_eos(rows, primer.size(), o.eos);
  if (stats != nullptr) {
    stats->steps = calls;
    stats->new_tokens = produced;
    stats->decoder = o.use_cache ? "LibTorch step" : "LibTorch recompute";
    stats->prefill_seconds = prefill;
    stats->seconds = seconds_since(start);
  }
  return rows;
}

void ChoraleGrammar::operator()(const std::vector<int32_t>& sequence, uint8_t* allowed) const {
  using T = tokenize::ChoraleTokens;
  const int32_t size = onset_vocab ? tokenize::Satb16OnsetVocab::kSize : tokenize::Satb16Vocab::kSize;
  for (int32_t t = 0; t < size; ++t) allowed[t] = 0;
  const size_t position = sequence.size();  // of the token to draw; BOS is at 0
  if (position == 0) {
    allowed[T::kBos] = 1;
    return;
  }
  const size_t voice = (position - 1) % 4;
  const size_t step = (position - 1) / 4;
  // EOS in place of a soprano, at a bar line, after at least one bar.
  if (allow_eos && voice == 0 && step > 0 && step % static_cast<size_t>(steps_per_bar) == 0) allowed[T::kEos] = 1;
  allowed[T::kRest] = 1;
  for (int pitch = std::max(lowest[voice], T::kLowestPitch); pitch <= std::min(highest[voice], T::kHighestPitch); ++pitch) {
    allowed[T::kFirstPitch + (pitch - T::kLowestPitch)] = 1;
  }
  if (opening_tonic >= 0 && step == 0) {
    allowed[T::kRest] = 0;
    const int third = (opening_tonic + (opening_minor ? 3 : 4)) % 12, fifth = (opening_tonic + 7) % 12;
    for (int pitch = T::kLowestPitch; pitch < T::kLowestPitch + T::kPitches; ++pitch) {
      const int pc = pitch % 12;
      const bool in_chord = voice == 3 ? pc == opening_tonic : (pc == opening_tonic || pc == third || pc == fifth);
      if (!in_chord) allowed[T::kFirstPitch + (pitch - T::kLowestPitch)] = 0;
    }
  }
  if (onset_vocab && position >= 5) {
    // A hold continues the pitch this voice had one step before (an onset or a hold of it).
    const int32_t before = sequence[position - 4];
    int previous = -1;
    if (before >= T::kFirstPitch && before < tokenize::Satb16OnsetVocab::kFirstHold) previous = before - T::kFirstPitch;
    if (before >= tokenize::Satb16OnsetVocab::kFirstHold) previous = before - tokenize::Satb16OnsetVocab::kFirstHold;
    if (previous >= 0) allowed[tokenize::Satb16OnsetVocab::kFirstHold + previous] = 1;
  }
  if (!voice_leading) return;
  // The pitch a token stands for (onset or hold), or kSilent.
  const auto pitch_of = [this](int32_t t) -> int {
    if (t < T::kFirstPitch) return music::kSilent;
    const int32_t first_hold = onset_vocab ? tokenize::Satb16OnsetVocab::kFirstHold : T::kFirstPitch + T::kPitches;
    return T::kLowestPitch + (t >= first_hold ? t - first_hold : t - T::kFirstPitch);
  };
  music::GridStep before{music::kSilent, music::kSilent, music::kSilent, music::kSilent};
  music::GridStep now = before;
  for (size_t u = 0; u < 4 && step > 0; ++u) before[u] = static_cast<int8_t>(pitch_of(sequence[1 + 4 * (step - 1) + u]));
  for (size_t u = 0; u < voice; ++u) now[u] = static_cast<int8_t>(pitch_of(sequence[1 + 4 * step + u]));
  std::vector<int32_t> broken;
  bool any_pitch_left = false;
  for (int32_t t = T::kFirstPitch; t < size; ++t) {
    if (!allowed[t]) continue;
    if (music::breaks_voice_leading(static_cast<int>(voice), pitch_of(t), before, now)) {
      broken.push_back(t);
    } else {
      any_pitch_left = true;
    }
  }
  if (!any_pitch_left && !broken.empty()) {
    ++*fallbacks;  // every pitch breaks a rule: keep the grammar's choices
    return;
  }
  for (int32_t t : broken) allowed[t] = 0;
}

}  // namespace bachgen::generate
