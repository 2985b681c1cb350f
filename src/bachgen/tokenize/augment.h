// Data augmentation on token sequences, applied on the fly by the data loaders: transposition
// (chorales: only shifts that keep every voice inside its corpus range; performance: +-3 by
// default) and time-stretch for performance tokens. Pure functions; the caller seeds the choice.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "bachgen/music/chorale_grid.h"

namespace bachgen::tokenize {

// Lowest and highest pitch of each voice (S, A, T, B); lowest > highest for a silent voice.
struct VoiceRanges {
  std::array<int, music::kVoices> lowest{127, 127, 127, 127};
  std::array<int, music::kVoices> highest{0, 0, 0, 0};
  void include(const VoiceRanges& other);
};

// The ranges of a chorale token sequence (satb16 or satb16-onset; `first_voice_position` is the
// index of the first soprano token, 1 after a BOS).
VoiceRanges chorale_voice_ranges(const int32_t* tokens, size_t count, size_t first_voice_position);

// The shifts k in [-max_shift, max_shift] that keep every voice of `piece` inside `corpus`, as
// an inclusive range; (0, 0) when no other shift fits.
std::pair<int, int> allowed_transpositions(const VoiceRanges& piece, const VoiceRanges& corpus,
                                           int max_shift);

// Adds k to every pitch token of a chorale sequence (both vocabularies; onsets stay onsets).
// The caller checks the shift with allowed_transpositions.
void transpose_chorale_tokens(int32_t* tokens, size_t count, int k);

// Adds k to every note-on and note-off; false (and the tokens unchanged) when a pitch would
// leave 0..127.
bool transpose_performance_tokens(int32_t* tokens, size_t count, int k);

// Scales the time between events by `factor` (1.05 = 5 % slower), re-quantized to 10 ms with
// the rounding error carried, not accumulated.
std::vector<int32_t> stretch_performance_tokens(const std::vector<int32_t>& tokens, double factor);

}  // namespace bachgen::tokenize
