// The chorale vocabularies: each 16th step is four tokens S, A, T, B (the Music Transformer
// paper's JSB serialization). `satb16`: a token is a pitch (36-81) or a rest. `satb16-onset`:
// each pitch token also says whether the note starts at this step or is held from the last.
// Both add PAD, BOS and EOS. Ids are constexpr here and documented in docs/data.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/music/chorale_grid.h"

namespace bachgen::tokenize {

// Shared by both chorale vocabularies.
struct ChoraleTokens {
  static constexpr int32_t kPad = 0;
  static constexpr int32_t kBos = 1;
  static constexpr int32_t kEos = 2;
  static constexpr int32_t kRest = 3;
  static constexpr int kLowestPitch = 36;
  static constexpr int kHighestPitch = 81;
  static constexpr int kPitches = kHighestPitch - kLowestPitch + 1;
  static constexpr int32_t kFirstPitch = 4;
};

struct Satb16Vocab : ChoraleTokens {
  static constexpr const char* kName = "satb16";
  static constexpr int32_t kSize = kFirstPitch + kPitches;
  static_assert(kSize == 50, "satb16: PAD BOS EOS REST + 46 pitches");
  static constexpr int32_t pitch_token(int pitch) { return kFirstPitch + (pitch - kLowestPitch); }
};

struct Satb16OnsetVocab : ChoraleTokens {
  static constexpr const char* kName = "satb16-onset";
  static constexpr int32_t kFirstHold = kFirstPitch + kPitches;
  static constexpr int32_t kSize = kFirstHold + kPitches;
  static_assert(kSize == 96, "satb16-onset: PAD BOS EOS REST + 46 onsets + 46 holds");
  static constexpr int32_t onset_token(int pitch) { return kFirstPitch + (pitch - kLowestPitch); }
  static constexpr int32_t hold_token(int pitch) { return kFirstHold + (pitch - kLowestPitch); }
};

struct ChoraleEncodeOptions {
  bool bos = true;  // start with BOS
  bool eos = true;  // end with EOS
};

// Throws std::invalid_argument naming the step and voice for a pitch outside 36-81.
std::vector<int32_t> encode_satb16(const music::ChoraleGrid& grid,
                                   const ChoraleEncodeOptions& options = {});
std::vector<int32_t> encode_satb16_onset(const music::ChoraleGrid& grid,
                                         const ChoraleEncodeOptions& options = {});

// Decoding skips PAD, a leading BOS and stops at EOS; the rest must be whole steps of four
// tokens, else std::invalid_argument names the position. satb16 gives a grid without onset
// flags; satb16-onset gives one with them (a hold after a rest or another pitch is read as an
// onset, and counted in *repaired when given).
music::ChoraleGrid decode_satb16(const std::vector<int32_t>& tokens);
music::ChoraleGrid decode_satb16_onset(const std::vector<int32_t>& tokens, int* repaired = nullptr);

// A readable name for a token ("BOS", "REST", "D5", "D5~" for a hold), for logs and tests.
std::string satb16_token_name(int32_t token, bool onset_vocab);

}  // namespace bachgen::tokenize
