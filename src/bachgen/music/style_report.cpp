// The style figures as a table or JSON.
#include "bachgen/music/style_report.h"

#include <algorithm>

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

nlohmann::json figures_json(const ChoraleFigures& f) {
  return {{"pieces", f.pieces},
          {"onsets", f.onsets},
          {"odd_step_onsets", f.odd_step_onsets},
          {"odd_step_onsets_percent", f.odd_step_onsets_percent()},
          {"scale_onsets", f.scale_onsets},
          {"scale_notes_percent", f.scale_notes_percent()},
          {"tonic_endings", f.tonic_endings},
          {"tonic_endings_percent", f.tonic_endings_percent()},
          {"beats", f.beats},
          {"chord_beats", f.chord_beats},
          {"chord_beats_percent", f.chord_beats_percent()},
          {"lower_onsets", f.lower_onsets},
          {"lower_onsets_per_quarter", f.lower_onsets_per_quarter()},
          {"inner_moves", f.inner_moves},
          {"inner_mean_interval_semitones", f.inner_mean_interval()},
          {"inner_leaps", f.inner_leaps},
          {"inner_leaps_percent", f.inner_leaps_percent()}};
}

}  // namespace

std::string style_report(const std::vector<StyleColumn>& columns, bool as_json) {
  if (as_json) {
    nlohmann::json out = nlohmann::json::array();
    for (const StyleColumn& c : columns) {
      nlohmann::json j = stats_json(c.stats);
      j.update(figures_json(c.figures));
      j["name"] = c.name;
      if (!c.key.empty()) j["key"] = c.key;
      if (c.compared) {
        j["reference_bass_percent"] = c.agreement.bass_percent();
        j["reference_bass_beats"] = c.agreement.bass_beats;
        j["reference_chord_percent"] = c.agreement.chord_percent();
        j["reference_chord_beats"] = c.agreement.chord_beats;
      }
      out.push_back(j);
    }
    return out.dump(2) + "\n";
  }
  std::string text;
  char line[512];
  std::snprintf(line, sizeof line, "%-40s %10s %10s %10s %10s %10s %10s %8s\n", "music", "sonorities", "5ths/100",
                "8ves/100", "cross/100", "range/100", "spread/100", "pc bits");
  text += line;
  for (const StyleColumn& c : columns) {
    const StyleStats& s = c.stats;
    const std::string shown = c.name.size() > 40 ? "..." + c.name.substr(c.name.size() - 37) : c.name;
    std::snprintf(line, sizeof line, "%-40s %10lld %10.2f %10.2f %10.2f %10.2f %10.2f %8.3f\n", shown.c_str(),
                  static_cast<long long>(s.sonorities), s.fifths_per_100_moves(), s.octaves_per_100_moves(),
                  s.crossings_per_100_sonorities(), s.out_of_range_per_100_notes(),
                  s.wide_spacing_per_100_sonorities(), s.pitch_class_entropy());
    text += line;
  }
  text += "5ths/8ves: parallel fifths/octaves per 100 voice-pair moves; cross, spread: per 100 sonorities;\n"
          "range: notes outside their voice's range per 100 notes; pc bits: pitch-class entropy.\n\n";
  std::snprintf(line, sizeof line, "%-40s %7s %8s %8s %8s %8s %8s %8s %8s  %s\n", "music", "pieces", "odd16 %", "scale %", "tonic %",
                "chords %", "ATB/q", "inner st", "leaps %", "key");
  text += line;
  for (const StyleColumn& c : columns) {
    const ChoraleFigures& f = c.figures;
    const std::string& key = c.key;
    const std::string shown = c.name.size() > 40 ? "..." + c.name.substr(c.name.size() - 37) : c.name;
    std::snprintf(line, sizeof line, "%-40s %7lld %8.1f %8.1f %8.1f %8.1f %8.2f %8.2f %8.1f  %s\n", shown.c_str(), static_cast<long long>(f.pieces),
                  f.odd_step_onsets_percent(), f.scale_notes_percent(), f.tonic_endings_percent(), f.chord_beats_percent(),
                  f.lower_onsets_per_quarter(), f.inner_mean_interval(), f.inner_leaps_percent(), key.c_str());
    text += line;
  }
  text += "odd16: onsets on an odd 16th step; scale: onsets in the key's scale; tonic: pieces ending on the tonic\n"
          "chord, tonic in the bass; chords: quarter beats that fit one triad or seventh chord; ATB/q: alto, tenor\n"
          "and bass onsets per quarter per voice; inner st, leaps: alto and tenor moves, mean semitones and share\n"
          "over a major third; key: of a single piece, Krumhansl-Kessler (docs/generation.md#analyze).\n";
  if (std::any_of(columns.begin(), columns.end(), [](const StyleColumn& c) { return c.compared; })) {
    std::snprintf(line, sizeof line, "\n%-40s %10s %8s %10s %8s\n", "against the reference", "bass beats", "same %", "chord beats", "same %");
    text += line;
    for (const StyleColumn& c : columns) {
      if (!c.compared) continue;
      const std::string shown = c.name.size() > 40 ? "..." + c.name.substr(c.name.size() - 37) : c.name;
      std::snprintf(line, sizeof line, "%-40s %10lld %8.1f %10lld %8.1f\n", shown.c_str(), static_cast<long long>(c.agreement.bass_beats),
                    c.agreement.bass_percent(), static_cast<long long>(c.agreement.chord_beats), c.agreement.chord_percent());
      text += line;
    }
    text += "same: quarter beats where the bass has the reference's pitch class, or all voices sound its pitch classes.\n";
  }
  return text;
}

}  // namespace bachgen::music
