// bachgen: the command-line program. Each subcommand has one settings struct whose defaults
// are what `--help` prints; the work itself lives in the library.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_summary.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/runtime/cpu_features.h"
#include "bachgen/runtime/torch_runtime.h"

namespace {

using namespace bachgen;

// ---------------------------------------------------------------------------------------------
// Settings

struct GlobalSettings {
  int threads = 0;  // LibTorch intra-op threads; 0 = every core
  bool version = false;
};

struct InspectSettings {
  std::vector<std::string> files;
  bool json = false;  // one JSON object per file, one per line
};

// ---------------------------------------------------------------------------------------------
// Commands

void print_version() {
  const runtime::CpuInfo cpu = runtime::detect_cpu();
  std::printf("bachgen %s (commit %s)\n", runtime::version(), runtime::commit());
  std::printf("LibTorch %s, CUDA %s\n", runtime::torch_version().c_str(),
              runtime::cuda_available() ? "available" : "not available");
  std::printf("CPU: %s (%d logical cores)\n", cpu.model_name.c_str(), cpu.logical_cores);
  std::printf("CPU features: %s; --precision auto picks %s\n", cpu.feature_list().c_str(),
              runtime::precision_name(runtime::resolve_precision(runtime::Precision::kAuto, cpu)));
  std::printf("threads: %d\n", runtime::threads());
  const std::string resources = runtime::resource_dir();
  std::printf("resources: %s\n", resources.empty() ? "(none found)" : resources.c_str());
}

int run_inspect(const InspectSettings& s) {
  int failures = 0;
  for (const std::string& path : s.files) {
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
      std::fputs((s.json ? midi::summary_to_json(summary) + "\n" : midi::summary_to_text(summary))
                     .c_str(),
                 stdout);
    } catch (const midi::MidiError& e) {
      ++failures;
      std::fflush(stdout);
      std::fprintf(stderr, "bachgen inspect: %s\n", e.what());
      if (s.json) {
        nlohmann::json j = {{"path", path}, {"ok", false}, {"error", e.problem()}};
        j["offset"] = e.offset() == midi::MidiError::kNoOffset ? nlohmann::json(nullptr)
                                                               : nlohmann::json(e.offset());
        std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      }
    }
  }
  std::fflush(stdout);
  if (failures > 0) {
    std::fprintf(stderr, "bachgen inspect: %d of %zu files could not be read\n", failures,
                 s.files.size());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bachgen: learns the style of J.S. Bach and writes new music"};
  app.require_subcommand(0, 1);
  GlobalSettings global;
  app.add_flag("--version", global.version, "Print version, commit, LibTorch and CPU features");
  app.add_option("--threads", global.threads, "LibTorch intra-op threads (0 = every core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  InspectSettings inspect;
  CLI::App* inspect_cmd = app.add_subcommand(
      "inspect", "Summarize MIDI files: format, tracks, notes, duration, tempo and meter");
  inspect_cmd->add_option("files", inspect.files, "MIDI files")->required();
  inspect_cmd->add_flag("--json", inspect.json, "One JSON object per file (keys: docs/midi.md)")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    runtime::set_threads(global.threads);
    if (global.version) {
      print_version();
      return 0;
    }
    if (inspect_cmd->parsed()) return run_inspect(inspect);
    std::cout << app.help();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bachgen: %s\n", e.what());
    return 1;
  }
}
