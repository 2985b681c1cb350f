// Token-level augmentation.
#include "bachgen/tokenize/augment.h"

#include <algorithm>
#include <cmath>

#include "bachgen/tokenize/performance388.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::tokenize {

void VoiceRanges::include(const VoiceRanges& other) {
  for (int v = 0; v < music::kVoices; ++v) {
    lowest[v] = std::min(lowest[v], other.lowest[v]);
    highest[v] = std::max(highest[v], other.highest[v]);
  }
}

namespace {
// The pitch of a chorale token, or -1 for rests and special tokens.
int chorale_pitch(int32_t token) {
  if (token < ChoraleTokens::kFirstPitch || token >= Satb16OnsetVocab::kSize) return -1;
  return ChoraleTokens::kLowestPitch + (token - ChoraleTokens::kFirstPitch) % ChoraleTokens::kPitches;
}
}  // namespace

VoiceRanges chorale_voice_ranges(const int32_t* tokens, size_t count, size_t first_voice_position) {
  VoiceRanges r;
  for (size_t i = first_voice_position; i < count; ++i) {
    const int pitch = chorale_pitch(tokens[i]);
    if (pitch < 0) continue;
    const size_t v = (i - first_voice_position) % music::kVoices;
    r.lowest[v] = std::min(r.lowest[v], pitch);
    r.highest[v] = std::max(r.highest[v], pitch);
  }
  return r;
}

std::pair<int, int> allowed_transpositions(const VoiceRanges& piece, const VoiceRanges& corpus,
                                           int max_shift) {
  int lo = -max_shift, hi = max_shift;
  for (int v = 0; v < music::kVoices; ++v) {
    if (piece.lowest[v] > piece.highest[v]) continue;  // silent voice
    lo = std::max(lo, corpus.lowest[v] - piece.lowest[v]);
    hi = std::min(hi, corpus.highest[v] - piece.highest[v]);
  }
  if (lo > hi || lo > 0 || hi < 0) return {0, 0};
  return {lo, hi};
}

void transpose_chorale_tokens(int32_t* tokens, size_t count, int k) {
  for (size_t i = 0; i < count; ++i) {
    if (chorale_pitch(tokens[i]) >= 0) tokens[i] += k;
  }
}

bool transpose_performance_tokens(int32_t* tokens, size_t count, int k) {
  using V = PerformanceVocab;
  for (size_t i = 0; i < count; ++i) {
    if (tokens[i] >= V::kTimeShift || tokens[i] < 0) continue;
    const int pitch = tokens[i] % 128;
    if (pitch + k < 0 || pitch + k > 127) return false;
  }
  for (size_t i = 0; i < count; ++i) {
    if (tokens[i] >= 0 && tokens[i] < V::kTimeShift) tokens[i] += k;
  }
  return true;
}

std::vector<int32_t> stretch_performance_tokens(const std::vector<int32_t>& tokens, double factor) {
  using V = PerformanceVocab;
  std::vector<int32_t> out;
  out.reserve(tokens.size() + tokens.size() / 8);
  int64_t old_time = 0;     // steps, before stretching
  int64_t emitted_time = 0;  // steps already written as shifts
  for (const int32_t tok : tokens) {
    if (tok >= V::kTimeShift && tok < V::kVelocity) {
      old_time += tok - V::kTimeShift + 1;
      continue;
    }
    const int64_t target = std::llround(static_cast<double>(old_time) * factor);
    while (emitted_time < target) {
      const int64_t shift = std::min<int64_t>(V::kMaxShiftSteps, target - emitted_time);
      out.push_back(V::kTimeShift + static_cast<int32_t>(shift - 1));
      emitted_time += shift;
    }
    out.push_back(tok);
  }
  const int64_t target = std::llround(static_cast<double>(old_time) * factor);  // trailing rest
  while (emitted_time < target) {
    const int64_t shift = std::min<int64_t>(V::kMaxShiftSteps, target - emitted_time);
    out.push_back(V::kTimeShift + static_cast<int32_t>(shift - 1));
    emitted_time += shift;
  }
  return out;
}

}  // namespace bachgen::tokenize
