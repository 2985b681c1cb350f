// The style figures as a table or JSON.
#include "bachgen/music/style_report.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

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

std::string style_report(const std::vector<StyleColumn>& columns, bool as_json) {
  if (as_json) {
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
