// Autoregressive generation with the KV cache (the LSTM: its state): through the fast batch-1
// decoder (model/fast_decode.h) a sample at a time, or the models' step API with N samples in
// one batch, or `use_cache = false` to recompute the whole prefix every step (the textbook
// generator, kept to measure what the cache saves). A constraint may mask the tokens
// allowed at each position (the SATB grammar below). Torch-free header; docs/generation.md.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bachgen/generate/sampler.h"
#include "bachgen/model/fast_decode.h"
#include "bachgen/music/voice_leading.h"
#include "bachgen/tokenize/conditions.h"

namespace bachgen::model {
class SequenceModelImpl;
}

namespace bachgen::generate {

// Called before each token is drawn: `sequence` is the row so far (BOS first); set allowed[t]
// to 0 for every token t that may not come next (allowed starts all 1, vocab_size entries).
using Constraint = std::function<void(const std::vector<int32_t>& sequence, uint8_t* allowed)>;

struct GenerateOptions {
  SamplingOptions sampling;
  uint64_t seed = 1;           // row r draws from Rng(seed) advanced r times by `jump`
  int count = 1;               // samples, generated together as one batch
  int64_t max_new_tokens = 1024;
  int32_t eos = -1;            // stop a row when it draws this token (-1: never)
  bool use_cache = true;
  // With the cache: the fused batch-1 decoder of model/fast_decode.h, one row after another
  // (false: the model's own LibTorch step, all rows as one batch), its weights fp32 or int8.
  // Models it does not cover use their step anyway.
  bool fast_decoder = true;
  model::DecodeWeights decode_weights = model::DecodeWeights::kFp32;
  // A fast decoder made beforehand for this model with decode_weights (the Composer keeps
  // one); null: made for this call.
  model::FastDecoder* fast = nullptr;
  Constraint constraint;       // optional
  // What every row's piece is, for models with conditions (tokenize/conditions.h); none:
  // nothing known. Other models ignore it.
  std::optional<tokenize::PieceConditions> conditions;
  double time_limit_seconds = 0;  // > 0: throw TimeLimitExceeded (generate/errors.h) once it passes
};

struct GenerateStats {
  int64_t steps = 0;           // model calls
  double seconds = 0;
  double prefill_seconds = 0;  // of `seconds`: before the first draw of each row (the primer through the cache; the fast decoder: making it too)
  int64_t new_tokens = 0;      // over all rows
  std::string decoder;         // "fast fp32", "fast int8", "LibTorch step" or "LibTorch recompute"
};

// Rows start from `primer` (BOS ...). Each row ends at its EOS (kept) or at max_new_tokens.
// The same seed, options and primer give the same rows, with or without the cache, for any
// `count` (row r's random stream does not depend on the others).
std::vector<std::vector<int32_t>> generate_tokens(model::SequenceModelImpl& model, const std::vector<int32_t>& primer,
                                                  const GenerateOptions& options, GenerateStats* stats = nullptr);

// The SATB grammar of the chorale vocabularies (satb16, satb16-onset): position 4k + 1 + v
// holds voice v (S, A, T, B) and allows only that voice's pitches (lowest..highest) or a rest;
// BOS and PAD never come again; EOS only where a bar ends (every `steps_per_bar` 16th steps);
// in satb16-onset a hold only continues the pitch the voice sounded one step before.
// With `voice_leading`, pitches that break music/voice_leading.h's rules against the step
// before and the voices already drawn at this step are masked too; when that leaves no pitch,
// the grammar's mask is used unchanged and `fallbacks` counts it.
struct ChoraleGrammar {
  bool onset_vocab = false;                 // satb16-onset
  std::array<int, 4> lowest = music::kVoiceLowest;
  std::array<int, 4> highest = music::kVoiceHighest;
  int steps_per_bar = 16;
  bool allow_eos = true;
  bool voice_leading = false;
  // A key to open in (a composer told `--key`): the first step is its tonic triad, every voice
  // sounding, the bass on the tonic (1 3 5, minor 1 b3 5). -1: any opening.
  int opening_tonic = -1;
  bool opening_minor = false;
  std::shared_ptr<int64_t> fallbacks = std::make_shared<int64_t>(0);
  void operator()(const std::vector<int32_t>& sequence, uint8_t* allowed) const;
};

}  // namespace bachgen::generate
