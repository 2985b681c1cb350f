// What a composer model may be told about the piece it writes, beside its tokens (issue 18):
// where the bars fall (meter and pickup), how many 16th steps the piece has (so that it can
// cadence at the end), and its key and mode. A chorale model with `conditions` on adds one
// learned embedding of each to every token (docs/model.md#conditions). Each may be unknown:
// training drops them at random, so the same model scores a piece with nothing known (the
// honest NLL beside the paper's) and composes with everything known. Torch-free: the data
// loaders, both decoders and the composer share these index functions.
#pragma once

#include <cstdint>
#include <string>

#include "bachgen/music/key.h"

namespace bachgen::tokenize {

struct PieceConditions {
  int steps_per_bar = 0;  // 16 (4/4) or 12 (3/4); 0 = unknown (other meters are unknown too)
  int bar_phase = 0;      // the 16th within its bar of step 0: 0 on a downbeat, 12 after a quarter pickup in 4/4
  int steps = 0;          // 16th steps in the piece; 0 = unknown
  int key = -1;           // tonic pitch class + 12 if minor (0..23); -1 = unknown

  bool meter_known() const { return steps_per_bar == 16 || steps_per_bar == 12; }
  friend bool operator==(const PieceConditions& a, const PieceConditions& b) {
    return a.steps_per_bar == b.steps_per_bar && a.bar_phase == b.bar_phase && a.steps == b.steps && a.key == b.key;
  }
};

// Embedding table sizes; index 0 of each is "unknown".
inline constexpr int64_t kBarIndices = 1 + 16 + 12;  // 4/4: 1..16, 3/4: 17..28
inline constexpr int64_t kEndIndices = 1 + 64 + 7;   // remaining steps 0..63 exactly, then 7 buckets
inline constexpr int64_t kKeyIndices = 1 + 24;

// The index of each for the token at 16th step `step` of its piece (the BOS is step -1).
// Bar: 1 + (step + phase) mod 16 in 4/4, 17 + (step + phase) mod 12 in 3/4.
int64_t bar_index(const PieceConditions& c, int64_t step);
// End: r = steps - 1 - step steps remain after this one (clamped at 0): 1 + r for r < 64,
// then 65 + min((r - 64) / 32, 6): [64, 96), [96, 128), ..., [256, inf).
int64_t end_index(const PieceConditions& c, int64_t step);
// Key: 1 + key.
int64_t key_index(const PieceConditions& c);

// The key condition of a key: its tonic pitch class, + 12 if minor.
inline int key_condition(const music::KeyGuess& key) { return key.tonic + (key.minor ? 12 : 0); }

// The key moved by `semitones` (transposition keeps the mode); unknown stays unknown.
int transposed_key(int key, int semitones);

// "4/4, pickup 4, 256 steps, D minor"; "unknown" parts are named so.
std::string describe(const PieceConditions& c);

}  // namespace bachgen::tokenize
