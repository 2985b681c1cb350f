// `bachgen analyze`.
#include "bachgen/commands/analyze_command.h"

#include <algorithm>
#include <stdexcept>

#include "bachgen/data/jsb.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/chorale_figures.h"
#include "bachgen/music/chorale_xml.h"
#include "bachgen/music/key.h"
#include "bachgen/music/score.h"
#include "bachgen/music/style_report.h"
#include "bachgen/music/voice_leading.h"

namespace bachgen::commands {

using namespace music;

namespace {

// The grids of a JSB reference: one piece, or every piece of a split.
std::vector<ChoraleGrid> jsb_grids(const data::JsbRef& ref) {
  if (ref.index >= 0) return {data::load_jsb_piece(ref)};
  return data::load_jsb(ref.file).split(ref.split);
}

StyleColumn analyze_grids(const std::string& name, const std::vector<ChoraleGrid>& grids) {
  StyleColumn column{name, {}, {}, {}};
  for (const ChoraleGrid& g : grids) {
    column.stats.add(analyze_grid(g));
    column.figures.add(chorale_figures(g));
  }
  if (grids.size() == 1 && grids[0].steps() > 0) column.key = guess_key(grids[0]).name();
  return column;
}

}  // namespace

std::string analyze_report(const AnalyzeSettings& settings) {
  std::vector<StyleColumn> columns;
  StyleColumn total{"all inputs", {}, {}, {}};
  for (const std::string& path : settings.inputs) {
    StyleColumn column;
    try {
      const bool split_name = (path == "train" || path == "valid" || path == "test") && !io::is_regular_file(path);
      if (split_name || data::looks_like_jsb_ref(path)) {
        data::JsbRef ref;
        try {
          ref = data::parse_jsb_ref(path, settings.jsb_file, /*index_required=*/false);
        } catch (const std::invalid_argument& e) {
          throw std::runtime_error(e.what());
        }
        if (ref.file.empty()) throw std::runtime_error("names a JSB piece, and no JSB data is installed (name the file: FILE.json:SPLIT:INDEX)");
        column = analyze_grids(path, jsb_grids(ref));
      } else if (has_musicxml_extension(path)) {
        // From the first beat: a pickup that starts between beats gets rests in front.
        const Chorale chorale = read_chorale_musicxml(path);
        ChoraleGrid grid = chorale.grid;
        const int lead = (4 - chorale.pickup_steps % 4) % 4;
        GridStep rest;
        rest.fill(kSilent);
        grid.pitches.insert(grid.pitches.begin(), static_cast<size_t>(lead), rest);
        grid.onsets.insert(grid.onsets.begin(), static_cast<size_t>(lead), {false, false, false, false});
        column = analyze_grids(path, {grid});
      } else {
        const Score score = score_from_midi(midi::read_midi_file(path));
        if (score.voices() != kVoices) {
          throw std::runtime_error("has " + std::to_string(score.voices()) + " voices; analyze needs 4 (S, A, T, B)");
        }
        // From its first beat, as a MusicXML file: the silent beats in front of a pickup go.
        ChoraleGrid grid = score_to_grid(score);
        size_t silent = 0;
        while (silent < grid.steps() && std::all_of(grid.pitches[silent].begin(), grid.pitches[silent].end(),
                                                    [](int8_t p) { return p == kSilent; })) {
          ++silent;
        }
        const size_t drop = silent - silent % 4;
        if (drop > 0 && drop < grid.steps()) {
          grid.pitches.erase(grid.pitches.begin(), grid.pitches.begin() + static_cast<std::ptrdiff_t>(drop));
          if (grid.knows_onsets()) grid.onsets.erase(grid.onsets.begin(), grid.onsets.begin() + static_cast<std::ptrdiff_t>(drop));
        }
        column = analyze_grids(path, {grid});
      }
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw std::runtime_error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
    }
    total.stats.add(column.stats);
    total.figures.add(column.figures);
    columns.push_back(std::move(column));
  }
  if (settings.inputs.size() > 1) columns.push_back(total);
  if (!settings.reference.empty()) {
    const std::string& text = settings.reference;
    data::JsbRef ref;
    if ((text.size() >= 5 && text.compare(text.size() - 5, 5, ".json") == 0) || (text.find(':') == std::string::npos && io::is_regular_file(text))) {
      ref.file = text;
      ref.split = "test";
    } else {
      try {
        ref = data::parse_jsb_ref(text, "", /*index_required=*/false);
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(std::string("--reference ") + e.what());
      }
    }
    columns.push_back(analyze_grids("Bach (JSB " + ref.split + (ref.index >= 0 ? ":" + std::to_string(ref.index) : "") + ")", jsb_grids(ref)));
  }
  return style_report(columns, settings.json);
}

}  // namespace bachgen::commands
