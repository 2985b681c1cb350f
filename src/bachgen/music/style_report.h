// `bachgen analyze`: the style statistics of four-part music files (music/voice_leading.h),
// beside the same figures for Bach's own JSB test chorales. Torch-free; docs/generation.md.
#pragma once

#include <string>
#include <vector>

namespace bachgen::music {

struct AnalyzeSettings {
  std::vector<std::string> inputs;  // four-voice MIDI files (S, A, T, B tracks)
  std::string reference;            // FILE.json[:SPLIT] of JSB; empty = none; default split test
  bool json = false;
};

// Throws std::runtime_error naming the file and the problem.
std::string analyze_report(const AnalyzeSettings& settings);

}  // namespace bachgen::music
