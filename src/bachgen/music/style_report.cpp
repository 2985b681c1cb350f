// `bachgen analyze`.
#include "bachgen/music/style_report.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/data/jsb.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/score.h"
#include "bachgen/music/voice_leading.h"

namespace bachgen::music {

namespace {

nlohmann::json stats_json(const StyleStats& s) {
  return {{"sonorities", s.sonorities},
          {"voice_pair_moves", s.pair_moves},
          {"parallel_fifths", s.parallel_fifths},
          {"parallel_octaves", s.parallel_octaves},
          {"parallel_fifths_per_100_moves", s.fifths_per_100_moves()},
          {"parallel_octaves_per_100_moves", s.octaves_per_100_moves()},
          {"crossings", s.crossings},
          {"crossings_per_100_sonorities", s.crossings_per_100_sonorities()},
          {"notes", s.notes},
          {"out_of_range", s.out_of_range},
          {"out_of_range_per_100_notes", s.out_of_range_per_100_notes()},
          {"wide_spacing", s.wide_spacing},
          {"wide_spacing_per_100_sonorities", s.wide_spacing_per_100_sonorities()},
          {"pitch_class_entropy_bits", s.pitch_class_entropy()}};
}

}  // namespace

std::string analyze_report(const AnalyzeSettings& settings) {
  std::vector<std::pair<std::string, StyleStats>> columns;
  StyleStats total;
  for (const std::string& path : settings.inputs) {
    StyleStats s;
    try {
      const Score score = score_from_midi(midi::read_midi_file(path));
      if (score.voices() != kVoices) {
        throw std::runtime_error("has " + std::to_string(score.voices()) + " voices; analyze needs 4 (S, A, T, B)");
      }
      s = analyze_grid(score_to_grid(score));
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw std::runtime_error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
    }
    total.add(s);
    columns.emplace_back(path, s);
  }
  if (settings.inputs.size() > 1) columns.emplace_back("all files", total);
  if (!settings.reference.empty()) {
    std::string file = settings.reference, split = "test";
    const size_t at = file.find(".json:");
    if (at != std::string::npos) {
      split = file.substr(at + 6);
      file = file.substr(0, at + 5);
    }
    const data::JsbCorpus corpus = data::load_jsb(file);
    StyleStats bach;
    for (const ChoraleGrid& g : corpus.split(split)) bach.add(analyze_grid(g));
    columns.emplace_back("Bach (JSB " + split + ")", bach);
  }
  if (settings.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, s] : columns) {
      nlohmann::json j = stats_json(s);
      j["name"] = name;
      out.push_back(j);
    }
    return out.dump(2) + "\n";
  }
  std::string text;
  char line[512];
  std::snprintf(line, sizeof line, "%-40s %10s %10s %10s %10s %10s %10s %8s\n", "music", "sonorities", "5ths/100",
                "8ves/100", "cross/100", "range/100", "spread/100", "pc bits");
  text += line;
  for (const auto& [name, s] : columns) {
    const std::string shown = name.size() > 40 ? "..." + name.substr(name.size() - 37) : name;
    std::snprintf(line, sizeof line, "%-40s %10lld %10.2f %10.2f %10.2f %10.2f %10.2f %8.3f\n", shown.c_str(),
                  static_cast<long long>(s.sonorities), s.fifths_per_100_moves(), s.octaves_per_100_moves(),
                  s.crossings_per_100_sonorities(), s.out_of_range_per_100_notes(),
                  s.wide_spacing_per_100_sonorities(), s.pitch_class_entropy());
    text += line;
  }
  text += "5ths/8ves: parallel fifths/octaves per 100 voice-pair moves; cross, spread: per 100 sonorities;\n"
          "range: notes outside their voice's range per 100 notes; pc bits: pitch-class entropy.\n";
  return text;
}

}  // namespace bachgen::music
