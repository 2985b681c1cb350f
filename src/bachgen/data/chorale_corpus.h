// The MIDI chorale corpus: file names (BWV, movement, variant), a deterministic train / valid /
// test split by BWV number, and a matcher that finds which MIDI chorale is which JSB piece by
// content, so that training on both sources never leaks the JSB valid or test set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bachgen/data/jsb.h"
#include "bachgen/music/chorale_grid.h"

namespace bachgen::data {

enum class Split { kTrain, kValid, kTest };
inline constexpr Split kSplits[] = {Split::kTrain, Split::kValid, Split::kTest};
const char* split_name(Split split);
Split parse_split(std::string_view name);  // throws std::invalid_argument

// "000206b_.mid" -> BWV 2, movement 6, variant "b_" (see the transcriber's readme).
struct ChoraleFileName {
  int bwv = 0;
  int movement = 0;
  std::string variant;
};
std::optional<ChoraleFileName> parse_chorale_file_name(std::string_view file_name);

// Every chorale of one BWV number (all its movements and variants) falls into one split:
// FNV-1a of "BWV <n>" modulo 100, under 80 train, under 90 valid, else test. Stable across
// machines and releases, and independent of which other files exist.
Split split_of_bwv(int bwv);

// The melody and bass of a piece as pitch-interval sequences, repeats merged and rests
// skipped: comparable between JSB (no onsets) and MIDI (onsets), and blind to transposition.
struct ChoraleSignature {
  std::vector<int8_t> soprano;
  std::vector<int8_t> bass;
};
ChoraleSignature signature_of(const music::ChoraleGrid& grid);

// 1 - Levenshtein distance / the longer length: 1 for equal sequences, 0 for nothing shared.
double sequence_similarity(const std::vector<int8_t>& a, const std::vector<int8_t>& b);

struct MatchThresholds {
  double soprano = 0.9;  // the same tune
  double bass = 0.75;    // and the same harmonization
};

struct ChoraleMatch {
  size_t midi_index = 0;
  Split jsb_split = Split::kTrain;
  size_t jsb_index = 0;
  double soprano = 0;  // similarities
  double bass = 0;
};

// Every (MIDI piece, JSB piece) pair whose soprano and bass similarities both reach the
// thresholds, sorted by MIDI index and then by descending similarity. Pairs whose soprano
// lengths differ by more than a quarter are not compared (they cannot reach 0.75).
std::vector<ChoraleMatch> match_chorales(const std::vector<music::ChoraleGrid>& midi,
                                         const JsbCorpus& jsb, const MatchThresholds& thresholds = {});

}  // namespace bachgen::data
