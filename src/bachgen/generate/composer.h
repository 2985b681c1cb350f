// The library's composer: a loaded chorale model (a next-token model over satb16 or
// satb16-onset) with its fast decoder, made once, that composes chorales from nothing or
// continues a primer, in memory. The CLI (commands/generate_command) and each studio worker
// hold one. A Composer is used by one thread at a time: give each thread its own.
// Torch-free header; docs/generation.md, docs/architecture.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bachgen/generate/sampler.h"
#include "bachgen/model/fast_decode.h"
#include "bachgen/model/model_kind.h"
#include "bachgen/music/chorale.h"
#include "bachgen/music/key.h"
#include "bachgen/music/voice_leading.h"
#include "bachgen/tokenize/conditions.h"
#include "bachgen/tokenize/vocab.h"

namespace bachgen::generate {

// Which step computes each token: model/fast_decode.h's fused loops, or LibTorch's own step
// (all samples as one batch). Models the fast decoder does not cover use LibTorch's step.
enum class Decoder { kFast, kTorch };
Decoder parse_decoder(const std::string& name);  // fast | torch; throws std::invalid_argument
const char* decoder_name(Decoder decoder);

struct ComposerOptions {
  Decoder decoder = Decoder::kFast;
  model::DecodeWeights weights = model::DecodeWeights::kInt8;  // the fast decoder's
  bool use_cache = true;        // false: recompute the whole prefix every token (to measure the cache)
  std::string jsb_path;         // JSB chorales for --key's first beat; empty = the installed copy
};

// What a model is, for reports (studio's /api/info, the CLI's lines).
struct ModelInfo {
  std::string path;
  model::ModelKind kind = model::ModelKind::kMusicLstm;
  tokenize::VocabId vocab = tokenize::VocabId::kSatb16;
  std::string shape;            // model::spec_shape
  int64_t parameters = 0;
  bool conditions = false;      // the model reads the piece's bar position, end and key
};

struct ComposeOptions {
  SamplingOptions sampling;
  uint64_t seed = 1;            // piece r of `count` draws from its own stream of this seed
  int count = 1;
  int64_t steps = 256;          // the length in 16ths, primer included (16 bars of 4/4)
  // > 0: the length in bars as written (a pickup's bar counts), in place of `steps`: a
  // composer with conditions then writes exactly that many bars and knows where they end.
  int64_t bars = 0;
  int steps_per_bar = 16;       // the meter: 16 = 4/4, 12 = 3/4
  // The pickup in 16ths (0 = start on a downbeat); < 0: as often as Bach's chorales of this meter
  // have one (a quarter), drawn once per call from the seed, so all `count` pieces share it.
  // Composers without conditions always start on a downbeat.
  int pickup_steps = -1;
  bool full_length = false;     // never end early at a bar line (no EOS before the length)
  music::VoiceLeading voice_leading = music::VoiceLeading::kStrict;
  // Compose in this key. A composer with conditions is told the key (and mode) and composes in
  // it. Others: eight candidates per piece, those in the key's mode first, each then transposed
  // to its tonic; without a primer the first beat of a JSB chorale in that mode leads.
  std::optional<music::KeyGuess> key;
  // A composer with conditions draws this many candidates per piece and keeps the best by rule:
  // in the key asked for (tonic and mode, then mode), then ending on its tonic triad, then the
  // first drawn. 0: 16 with a key, else 4 (docs/results.md measured both). The one kept, when not
  // in the key asked for, is then transposed into it as for other composers. Composers without
  // conditions ignore it.
  int candidates = 0;
  int64_t primer_steps = 16;    // of a primer, the first N 16ths are kept (0 = all of it)
  double tempo = 80;            // of the result
  double time_limit_seconds = 0;  // > 0: TimeLimitExceeded (errors.h) once it passes
};

struct Composition {
  music::Chorale chorale;       // with its meter and pickup
  std::optional<tokenize::PieceConditions> conditions;  // what a composer with conditions was told
  int candidates = 1;           // drawn for this piece; the one kept is the best by ComposeOptions::candidates' rule
  std::optional<music::KeyChange> key_change;  // with ComposeOptions::key
};

struct ComposeStats {
  int64_t new_tokens = 0;
  double seconds = 0;           // generation alone
  int64_t voice_leading_fallbacks = 0;  // positions where every pitch broke a rule
  std::string decoder;          // "fast int8", "fast fp32", "LibTorch step", "LibTorch recompute"
  double tokens_per_second() const { return static_cast<double>(new_tokens) / (seconds > 1e-9 ? seconds : 1e-9); }
};

class Composer {
 public:
  // A model file or a bundled model's name (runtime/bundled_models.h; empty = jsb-compose).
  // Throws InputError(kModel) for a model that does not compose chorales left to right.
  explicit Composer(const std::string& model, const ComposerOptions& options = {});
  ~Composer();
  Composer(Composer&&) noexcept;
  Composer& operator=(Composer&&) noexcept;

  const ModelInfo& info() const;
  // Whether the model reads the piece's conditions (bar, end, key: tokenize/conditions.h).
  bool conditioned() const;

  // `primer`: the music to continue (its first primer_steps 16ths), or none. Throws
  // InputError (kPrimer, kLength) for a primer the vocabulary cannot hold or a length not
  // longer than the primer, TimeLimitExceeded past the time limit.
  std::vector<Composition> compose(const ComposeOptions& options, const music::ChoraleGrid* primer = nullptr,
                                   ComposeStats* stats = nullptr);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace bachgen::generate
