// `bachgen analyze`: the style figures (music/style_report.h) of four-voice MIDI files, beside
// the same figures for Bach's own JSB chorales. Torch-free; docs/generation.md#analyze.
#pragma once

#include <string>
#include <vector>

namespace bachgen::commands {

struct AnalyzeSettings {
  std::vector<std::string> inputs;  // four-voice MIDI files (S, A, T, B tracks), or JSB pieces
                                    // [FILE.json:]SPLIT[:INDEX] (a whole split is one column)
  std::string jsb_file;             // the JSB data for inputs that name no file (the installed one)
  std::string reference;            // [FILE.json:]SPLIT[:INDEX] of JSB (default split test), or a MIDI or
                                    // MusicXML file; empty = none. One piece: inputs are also compared with it
  bool json = false;
};

// Throws std::runtime_error naming the file and the problem.
std::string analyze_report(const AnalyzeSettings& settings);

}  // namespace bachgen::commands
