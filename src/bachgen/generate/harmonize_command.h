// `bachgen harmonize` and `bachgen infill`: the conditioning model draws alto, tenor and bass
// under a given soprano, or chosen voices in chosen bars of a chorale, keeping everything else
// exactly (generate/infill.h). Torch-free header; docs/generation.md#harmonize.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bachgen/generate/sampler.h"

namespace bachgen::generate {

// What the two commands share.
struct InfillCommonSettings {
  std::string model;            // a file, or a bundled model's name; empty = the bundled jsb-infill
  SamplingOptions sampling;
  uint64_t seed = 1;
  int count = 1;                // results: NAME, or NAME-1 ... NAME-N (seeds seed, seed+1, ...)
  int64_t passes = 0;           // model runs per result; 0 = one per 16th step
  std::string voice_leading = "strict";  // strict | off
  double tempo = 0;             // quarter notes per minute; 0 = the input's, else 80
  std::string audio = "wav";    // wav | flac | none
  std::string soundfont;
  std::string out;              // NAME, without extension
};

struct HarmonizeSettings {
  InfillCommonSettings common;
  std::string melody;           // a MIDI or MusicXML file
  std::string notes;            // or the note text (music/melody.h)
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
  std::string text;             // what the command prints
};

// Longest melody harmonize takes: 64 bars of 4/4.
inline constexpr size_t kMaxHarmonizeSteps = 1024;

// Throw std::runtime_error (or std::invalid_argument for bad text input) naming the file or
// option and the problem; every file is written atomically.
InfillReport run_harmonize(const HarmonizeSettings& settings);
InfillReport run_infill(const InfillSettings& settings);

// "3-5" -> {3, 5}; "4" -> {4, 4}; "all" -> {1, INT64_MAX}. Throws std::invalid_argument.
std::pair<int64_t, int64_t> parse_bar_range(const std::string& text);
// "ATB" -> {false, true, true, true}. Throws std::invalid_argument.
std::array<bool, 4> parse_voices(const std::string& text);

}  // namespace bachgen::generate
