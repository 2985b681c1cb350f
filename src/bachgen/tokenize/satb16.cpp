// Chorale grid <-> token encoding.
#include "bachgen/tokenize/satb16.h"

#include <stdexcept>

namespace bachgen::tokenize {

namespace {

void check_pitch(int pitch, size_t step, int voice) {
  if (pitch < ChoraleTokens::kLowestPitch || pitch > ChoraleTokens::kHighestPitch) {
    throw std::invalid_argument("step " + std::to_string(step) + ", voice " +
                                std::to_string(voice) + ": pitch " + std::to_string(pitch) +
                                " is outside the chorale range 36-81");
  }
}

template <typename TokenOf>
std::vector<int32_t> encode(const music::ChoraleGrid& grid, const ChoraleEncodeOptions& options,
                            TokenOf token_of) {
  std::vector<int32_t> tokens(grid.steps() * music::kVoices + options.bos + options.eos);
  int32_t* out = tokens.data();
  if (options.bos) *out++ = ChoraleTokens::kBos;
  for (size_t t = 0; t < grid.steps(); ++t) {
    for (int v = 0; v < music::kVoices; ++v) {
      const int pitch = grid.pitches[t][v];
      if (pitch == music::kSilent) {
        *out++ = ChoraleTokens::kRest;
        continue;
      }
      check_pitch(pitch, t, v);
      *out++ = token_of(t, v, pitch);
    }
  }
  if (options.eos) *out++ = ChoraleTokens::kEos;
  return tokens;
}

// The body of a token sequence: without PAD, a leading BOS, and EOS with all after it.
std::vector<int32_t> body_of(const std::vector<int32_t>& tokens) {
  std::vector<int32_t> body;
  body.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t tok = tokens[i];
    if (tok == ChoraleTokens::kPad) continue;
    if (tok == ChoraleTokens::kBos && body.empty()) continue;
    if (tok == ChoraleTokens::kEos) break;
    if (tok == ChoraleTokens::kBos) {
      throw std::invalid_argument("token " + std::to_string(i) + ": BOS inside the sequence");
    }
    body.push_back(tok);
  }
  if (body.size() % music::kVoices != 0) {
    throw std::invalid_argument("the sequence holds " + std::to_string(body.size()) +
                                " voice tokens, not a whole number of 4-voice steps");
  }
  return body;
}

}  // namespace

std::vector<int32_t> encode_satb16(const music::ChoraleGrid& grid,
                                   const ChoraleEncodeOptions& options) {
  return encode(grid, options,
                [](size_t, int, int pitch) { return Satb16Vocab::pitch_token(pitch); });
}

std::vector<int32_t> encode_satb16_onset(const music::ChoraleGrid& grid,
                                         const ChoraleEncodeOptions& options) {
  return encode(grid, options, [&grid](size_t t, int v, int pitch) {
    return grid.is_onset(t, v) ? Satb16OnsetVocab::onset_token(pitch)
                               : Satb16OnsetVocab::hold_token(pitch);
  });
}

music::ChoraleGrid decode_satb16(const std::vector<int32_t>& tokens) {
  const std::vector<int32_t> body = body_of(tokens);
  music::ChoraleGrid grid;
  grid.pitches.resize(body.size() / music::kVoices);
  for (size_t i = 0; i < body.size(); ++i) {
    const int32_t tok = body[i];
    int8_t pitch = music::kSilent;
    if (tok >= Satb16Vocab::kFirstPitch && tok < Satb16Vocab::kSize) {
      pitch = static_cast<int8_t>(ChoraleTokens::kLowestPitch + tok - Satb16Vocab::kFirstPitch);
    } else if (tok != ChoraleTokens::kRest) {
      throw std::invalid_argument("voice token " + std::to_string(i) + ": id " +
                                  std::to_string(tok) + " is not a satb16 pitch or rest");
    }
    grid.pitches[i / music::kVoices][i % music::kVoices] = pitch;
  }
  return grid;
}

music::ChoraleGrid decode_satb16_onset(const std::vector<int32_t>& tokens, int* repaired) {
  const std::vector<int32_t> body = body_of(tokens);
  music::ChoraleGrid grid;
  const size_t steps = body.size() / music::kVoices;
  grid.pitches.resize(steps);
  grid.onsets.resize(steps);
  int fixes = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const int32_t tok = body[i];
    const size_t t = i / music::kVoices;
    const int v = static_cast<int>(i % music::kVoices);
    int8_t pitch = music::kSilent;
    bool onset = false;
    if (tok >= Satb16OnsetVocab::kFirstPitch && tok < Satb16OnsetVocab::kFirstHold) {
      pitch = static_cast<int8_t>(ChoraleTokens::kLowestPitch + tok - Satb16OnsetVocab::kFirstPitch);
      onset = true;
    } else if (tok >= Satb16OnsetVocab::kFirstHold && tok < Satb16OnsetVocab::kSize) {
      pitch = static_cast<int8_t>(ChoraleTokens::kLowestPitch + tok - Satb16OnsetVocab::kFirstHold);
      // A hold must continue the same pitch; otherwise the note starts here.
      if (t == 0 || grid.pitches[t - 1][v] != pitch) {
        onset = true;
        ++fixes;
      }
    } else if (tok != ChoraleTokens::kRest) {
      throw std::invalid_argument("voice token " + std::to_string(i) + ": id " +
                                  std::to_string(tok) + " is not a satb16-onset pitch or rest");
    }
    grid.pitches[t][v] = pitch;
    grid.onsets[t][v] = onset;
  }
  if (repaired) *repaired = fixes;
  return grid;
}

std::string satb16_token_name(int32_t token, bool onset_vocab) {
  static const char* const kNames[12] = {"C", "C#", "D", "Eb", "E", "F",
                                         "F#", "G", "Ab", "A", "Bb", "B"};
  switch (token) {
    case ChoraleTokens::kPad: return "PAD";
    case ChoraleTokens::kBos: return "BOS";
    case ChoraleTokens::kEos: return "EOS";
    case ChoraleTokens::kRest: return "REST";
    default: break;
  }
  const int32_t size = onset_vocab ? Satb16OnsetVocab::kSize : Satb16Vocab::kSize;
  if (token < ChoraleTokens::kFirstPitch || token >= size) return "?" + std::to_string(token);
  int offset = token - ChoraleTokens::kFirstPitch;
  const bool hold = offset >= ChoraleTokens::kPitches;
  if (hold) offset -= ChoraleTokens::kPitches;
  const int pitch = ChoraleTokens::kLowestPitch + offset;
  return std::string(kNames[pitch % 12]) + std::to_string(pitch / 12 - 1) + (hold ? "~" : "");
}

}  // namespace bachgen::tokenize
