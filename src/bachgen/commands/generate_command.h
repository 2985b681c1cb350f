// `bachgen generate`: compose or continue music with a trained model and write it as MIDI
// (and MusicXML for chorales): the flags parsed, the primer read, then the library's Composer
// (generate/composer.h) for chorales, the generator itself for performance models.
// Torch-free header; docs/generation.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/generate/sampler.h"
#include "bachgen/music/chorale.h"

namespace bachgen::commands {

using generate::SamplingOptions;

struct GenerateSettings {
  std::string model;            // a bachgen model file (a checkpoint is one) or a bundled model's
                                // name; empty = the bundled jsb-compose
  std::string primer;           // a MIDI file, or [FILE.json:]SPLIT:INDEX (a JSB piece); empty = from nothing
  int64_t primer_steps = 16;    // chorales: keep the primer's first N 16th steps (0 = all of it)
  SamplingOptions sampling;
  uint64_t seed = 1;
  int64_t bars = 16;            // chorales: the output's length in bars as written, primer included
  std::string meter = "4/4";    // chorales: 4/4 | 3/4
  int pickup = -1;              // chorales: the pickup in 16ths; < 0: as often as Bach's (composers with conditions)
  int64_t steps = 0;            // > 0: the length in 16th steps instead (chorales), or new tokens (performance)
  int count = 1;                // samples: NAME.mid (+ .musicxml), or NAME-1.mid ... NAME-N.mid
  double tempo = 80;            // chorales: quarter notes per minute
  bool use_cache = true;        // false: recompute the prefix every step (to measure the cache)
  std::string decoder = "fast";          // fast (model/fast_decode.h, a row at a time) | torch (LibTorch's step, one batch)
  std::string decode_weights = "int8";   // the fast decoder's weights: int8 | fp32 (docs/generation.md)
  bool full_length = false;     // chorales: never end early at a bar line (no EOS until the length)
  std::string voice_leading = "strict";  // chorales: strict | off (music/voice_leading.h rules)
  std::string audio = "wav";    // wav | flac | none: NAME.wav / NAME.flac through FluidSynth
  std::string soundfont;        // empty: render/audio.h's default
  std::string key;              // chorales: "D minor", "Eb major" ...: transpose the result into it
  int candidates = 0;           // chorales, composers with conditions: candidates per piece (0: 16 with a key, else 4)
  std::string out;              // NAME, without extension
  double time_limit_seconds = 0;  // > 0: stop with TimeLimitExceeded (generate/errors.h) past it
};

struct GenerateReport {
  std::vector<std::string> files;
  int64_t new_tokens = 0;
  double seconds = 0;           // generation alone
  double tokens_per_second = 0;
  int64_t voice_leading_fallbacks = 0;  // positions where every pitch broke a rule
  std::string text;             // what the command prints
  std::vector<music::Chorale> chorales;   // chorales: the results as written
};

// Throws std::runtime_error (generate::InputError for one bad input) naming the file or flag
// and the problem; writes each file atomically.
GenerateReport run_generate(const GenerateSettings& settings);

}  // namespace bachgen::commands
