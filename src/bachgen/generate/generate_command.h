// `bachgen generate`: compose or continue music with a trained model and write it as MIDI
// (and MusicXML for chorales).
// Torch-free header; docs/generation.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/generate/chorale_output.h"
#include "bachgen/generate/sampler.h"
#include "bachgen/music/chorale_grid.h"
#include "bachgen/render/musicxml.h"

namespace bachgen::generate {

struct GenerateSettings {
  std::string model;            // a bachgen model file (a checkpoint is one) or a bundled model's
                                // name; empty = the bundled jsb-default
  std::string primer;           // a MIDI file, or [FILE.json:]SPLIT:INDEX (a JSB piece); empty = from nothing
  int64_t primer_steps = 16;    // chorales: keep the primer's first N 16th steps (0 = all of it)
  SamplingOptions sampling;
  uint64_t seed = 1;
  int64_t bars = 16;            // chorales: the output's length in 4/4 bars, primer included
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
  std::string out;              // NAME, without extension
  double time_limit_seconds = 0;  // > 0: stop with TimeLimitExceeded (command_errors.h) past it
};

struct GenerateReport {
  std::vector<std::string> files;
  int64_t new_tokens = 0;
  double seconds = 0;           // generation alone
  double tokens_per_second = 0;
  int64_t voice_leading_fallbacks = 0;  // positions where every pitch broke a rule
  std::string text;             // what the command prints
  std::vector<music::ChoraleGrid> grids;  // chorales: the results as written
  ChoraleOutputOptions output;            // chorales: how they were written
};

// Throws std::runtime_error naming the file and the problem; writes each file atomically.
GenerateReport run_generate(const GenerateSettings& settings);

// --key: the grid's key is guessed (render/musicxml.h) and the grid transposed so that its
// tonic becomes the target's, by the octave choice that keeps the most notes in their voices'
// ranges (the smaller shift on a tie). A major piece stays major: mode_matches says whether the modes agree.
struct KeyChange {
  std::string from, to;
  int semitones = 0;
  bool mode_matches = true;
};
KeyChange transpose_into_key(music::ChoraleGrid& grid, const render::KeyGuess& target);

}  // namespace bachgen::generate
