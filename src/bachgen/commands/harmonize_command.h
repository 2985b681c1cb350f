// `bachgen harmonize` and `bachgen infill`: the flags parsed and the melody or chorale read,
// then the library's Harmonizer (generate/harmonizer.h) draws alto, tenor and bass under the
// soprano, or chosen voices in chosen bars, and the files are written. Torch-free header;
// docs/generation.md#harmonize.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bachgen/generate/harmonizer.h"
#include "bachgen/generate/sampler.h"
#include "bachgen/music/chorale.h"

namespace bachgen::commands {

using generate::SamplingOptions;

// What the two commands share.
struct InfillCommonSettings {
  std::string model;            // a file, or a bundled model's name; empty = the bundled jsb-harmonize
  SamplingOptions sampling{generate::kDefaultHarmonizeTemperature};
  uint64_t seed = 1;
  int count = 1;                // results: NAME, or NAME-1 ... NAME-N (seeds seed, seed+1, ...)
  std::string sampler = generate::infill_sampler_name(generate::kDefaultHarmonizeSampler);  // ancestral | gibbs
  int64_t passes = 0;           // ancestral: model runs per result; 0 = one per 16th step
  int64_t iterations = 0;       // Gibbs: model runs per result; 0 = one per step with a note to draw
  double final_temperature = generate::kDefaultHarmonizeFinalTemperature;  // Gibbs; 0 = constant
  double hold_temperature = generate::kDefaultHarmonizeHoldTemperature;    // 0 = no hold split
  std::string precision = "auto";  // auto | fp32 | bf16: of the model's runs
  std::string voice_leading = "strict";  // strict | off
  std::string rhythm = "eighths";  // eighths: drawn voices start notes on the 8th grid | sixteenths
  double tempo = 0;             // quarter notes per minute; 0 = the input's, else 80
  std::string audio = "wav";    // wav | flac | none
  std::string soundfont;
  std::string out;              // NAME, without extension
  double time_limit_seconds = 0;  // > 0: stop with TimeLimitExceeded (generate/errors.h) past it
  int64_t candidates = generate::kDefaultHarmonizeCandidates;  // drawn per result, one kept by the critic
  std::string critic = generate::critic_name(generate::kDefaultCritic);  // consensus | model
};

struct HarmonizeSettings {
  InfillCommonSettings common;
  std::string melody;           // a MIDI or MusicXML file
  std::string notes;            // or the note text (music/melody.h)
  size_t max_steps = 1024;      // the longest melody taken, in 16ths (64 bars of 4/4)
  std::string transpose = "off";  // off: a melody outside the soprano's range is refused; auto: moved (generate/harmonizer.h)
  std::string cadence = "tonic";  // tonic: a melody ending on its tonic triad ends on that chord | free
  std::string key;              // "A major", "F#m": the melody's key, told and taken by the cadence; empty = the file's or the notes'
};

struct InfillSettings {
  InfillCommonSettings common;
  std::string input;            // a four-part MIDI file, or [FILE.json:]SPLIT:INDEX (a JSB chorale)
  std::string bars;             // "A-B", "A" or "all": 1-based, inclusive, in the input's meter
  std::string voices = "ATB";   // any of S, A, T, B
};

struct InfillReport {
  std::vector<std::string> files;
  int64_t variables = 0;        // per result
  int64_t fallbacks = 0;        // over all results
  double seconds = 0;
  bool bf16 = false;            // the model ran under bf16 autocast
  std::vector<int64_t> chosen;  // per result: the candidate the critic kept (from 0)
  std::string text;             // what the command prints
  std::vector<music::Chorale> chorales;   // the results as written
};


// Throw std::runtime_error (generate::InputError for a bad melody, bar range or input) naming
// the file or flag and the problem; every file is written atomically.
InfillReport run_harmonize(const HarmonizeSettings& settings);
InfillReport run_infill(const InfillSettings& settings);

}  // namespace bachgen::commands
