// `bachgen inspect`.
#include "bachgen/commands/inspect_command.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_summary.h"

namespace bachgen::commands {

// Files as given; a folder stands for its MIDI files in name order.
std::vector<std::string> expand_midi_paths(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  for (const std::string& arg : args) {
    if (!io::is_directory(arg)) {
      paths.push_back(arg);
      continue;
    }
    for (const std::string& name : io::list_midi_files(arg)) {
      paths.push_back(arg + (arg.back() == '/' ? "" : "/") + name);
    }
  }
  return paths;
}

InspectReport inspect_report(const InspectSettings& s) {
  InspectReport report;
  report.exit_code = inspect(s, [&report](int stream, const std::string& text) { report.chunks.push_back({stream, text}); });
  return report;
}

int inspect(const InspectSettings& s, const std::function<void(int, const std::string&)>& sink) {
  const auto out = [&sink](const std::string& text) { sink(1, text); };
  const auto err = [&sink](const std::string& text) { sink(2, text); };
  char line[512];
  int failures = 0;
  const std::vector<std::string> paths = expand_midi_paths(s.files);
  int64_t total_notes = 0;
  double total_seconds = 0;
  if (s.table) out(midi::summary_table_header());
  for (const std::string& path : paths) {
    try {
      std::vector<midi::ReadWarning> warnings;
      std::vector<uint8_t> bytes;
      try {
        bytes = io::read_file_bytes(path, midi::kMaxMidiFileBytes);
      } catch (const std::exception& e) {
        throw midi::MidiError(path, midi::MidiError::kNoOffset, e.what());
      }
      const midi::MidiFile file = midi::parse_midi(bytes, path, &warnings);
      const midi::MidiSummary summary =
          midi::summarize_midi(file, path, bytes.size(), std::move(warnings));
      total_notes += summary.notes;
      total_seconds += summary.duration_seconds;
      const std::string text = s.json    ? midi::summary_to_json(summary) + "\n"
                              : s.table ? midi::summary_table_row(summary)
                                        : midi::summary_to_text(summary);
      out(text);
    } catch (const midi::MidiError& e) {
      ++failures;
      err(std::string("bachgen inspect: ") + e.what() + "\n");
      if (s.json) {
        nlohmann::json j = {{"path", path}, {"ok", false}, {"error", e.problem()}};
        j["offset"] = e.offset() == midi::MidiError::kNoOffset ? nlohmann::json(nullptr)
                                                               : nlohmann::json(e.offset());
        out(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      }
    }
  }
  if (s.table) {
    std::snprintf(line, sizeof line, "%zu files read, %d failed; %lld notes, %.1f minutes of music\n",
                  paths.size() - static_cast<size_t>(failures), failures, static_cast<long long>(total_notes), total_seconds / 60);
    out(line);
  }
  if (paths.empty()) {
    err("bachgen inspect: no MIDI files found\n");
    return 1;
  }
  if (failures > 0) {
    std::snprintf(line, sizeof line, "bachgen inspect: %d of %zu files could not be read\n", failures, paths.size());
    err(line);
    return 1;
  }
  return 0;
}

}  // namespace bachgen::commands
