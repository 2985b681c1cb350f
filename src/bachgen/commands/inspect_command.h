// `bachgen inspect`: a summary of each MIDI file (midi/midi_summary.h) as text, a table row or
// JSON, with every file that cannot be read named and counted. Torch-free; docs/midi.md.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bachgen::commands {

struct InspectSettings {
  std::vector<std::string> files;  // files, or folders (their .mid / .midi files, sorted)
  bool json = false;   // one JSON object per file, one per line
  bool table = false;  // one table row per file, and a totals line
};

struct InspectReport {
  std::vector<std::pair<int, std::string>> chunks;  // (1 = stdout, 2 = stderr, text) in order
  int exit_code = 0;   // 1 when no file was found or any could not be read
  std::string text(int stream) const {
    std::string all;
    for (const auto& [s, t] : chunks) {
      if (s == stream) all += t;
    }
    return all;
  }
};

InspectReport inspect_report(const InspectSettings& settings);
// The same, each piece of text handed to `sink` (1 = stdout, 2 = stderr) as soon as it is
// made, so a long folder prints as it goes; returns the exit code.
int inspect(const InspectSettings& settings, const std::function<void(int stream, const std::string& text)>& sink);

// Files as given; a folder stands for its MIDI files in name order.
std::vector<std::string> expand_midi_paths(const std::vector<std::string>& args);

}  // namespace bachgen::commands
