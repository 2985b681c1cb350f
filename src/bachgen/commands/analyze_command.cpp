// `bachgen analyze`.
#include "bachgen/commands/analyze_command.h"

#include <algorithm>
#include <optional>
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

// A four-voice MIDI or MusicXML file's grid from its first beat: a MusicXML pickup that starts
// between beats gets rests in front; the silent beats in front of a MIDI file's pickup go.
ChoraleGrid grid_of_file(const std::string& path) {
  GridStep rest;
  rest.fill(kSilent);
  if (has_musicxml_extension(path)) {
    const Chorale chorale = read_chorale_musicxml(path);
    ChoraleGrid grid = chorale.grid;
    const int lead = (4 - chorale.pickup_steps % 4) % 4;
    grid.pitches.insert(grid.pitches.begin(), static_cast<size_t>(lead), rest);
    grid.onsets.insert(grid.onsets.begin(), static_cast<size_t>(lead), {false, false, false, false});
    return grid;
  }
  const Score score = score_from_midi(midi::read_midi_file(path));
  if (score.voices() != kVoices) {
    throw std::runtime_error("has " + std::to_string(score.voices()) + " voices; analyze needs 4 (S, A, T, B)");
  }
  ChoraleGrid grid = score_to_grid(score);
  size_t silent = 0;
  while (silent < grid.steps() && grid.pitches[silent] == rest) ++silent;
  const size_t drop = silent - silent % 4;
  if (drop > 0 && drop < grid.steps()) {
    grid.pitches.erase(grid.pitches.begin(), grid.pitches.begin() + static_cast<std::ptrdiff_t>(drop));
    if (grid.knows_onsets()) grid.onsets.erase(grid.onsets.begin(), grid.onsets.begin() + static_cast<std::ptrdiff_t>(drop));
  }
  return grid;
}

StyleColumn analyze_grids(const std::string& name, const std::vector<ChoraleGrid>& grids) {
  StyleColumn column;
  column.name = name;
  for (const ChoraleGrid& g : grids) {
    column.stats.add(analyze_grid(g));
    column.figures.add(chorale_figures(g));
  }
  if (grids.size() == 1 && grids[0].steps() > 0) column.key = guess_key(grids[0]).name();
  return column;
}

}  // namespace

std::string analyze_report(const AnalyzeSettings& settings) {
  // The Bach column: a JSB split or piece, or (a realization to compare with) a MIDI or
  // MusicXML file. A single piece is also what every input that is one piece is compared with.
  const std::string& ref_text = settings.reference;
  std::vector<ChoraleGrid> reference;
  std::string reference_name;
  if (!ref_text.empty()) {
    try {
      if (io::has_midi_extension(ref_text) || has_musicxml_extension(ref_text)) {
        reference = {grid_of_file(ref_text)};
        reference_name = "reference (" + ref_text + ")";
      } else {
        data::JsbRef ref;
        if ((ref_text.size() >= 5 && ref_text.compare(ref_text.size() - 5, 5, ".json") == 0) ||
            (ref_text.find(':') == std::string::npos && io::is_regular_file(ref_text))) {
          ref.file = ref_text;
          ref.split = "test";
        } else {
          ref = data::parse_jsb_ref(ref_text, settings.jsb_file, /*index_required=*/false);
        }
        if (ref.file.empty()) throw std::runtime_error("names a JSB piece, and no JSB data is installed (name the file: FILE.json:SPLIT:INDEX)");
        reference = jsb_grids(ref);
        reference_name = "Bach (JSB " + ref.split + (ref.index >= 0 ? ":" + std::to_string(ref.index) : "") + ")";
      }
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw std::runtime_error("--reference " + (what.rfind(ref_text, 0) == 0 ? what : ref_text + ": " + what));
    }
  }
  const bool compare = reference.size() == 1;

  std::vector<StyleColumn> columns;
  StyleColumn total;
  total.name = "all inputs";
  for (const std::string& path : settings.inputs) {
    std::vector<ChoraleGrid> grids;
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
        grids = jsb_grids(ref);
      } else {
        grids = {grid_of_file(path)};
      }
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw std::runtime_error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
    }
    StyleColumn column = analyze_grids(path, grids);
    if (compare && grids.size() == 1) {
      column.compared = true;
      column.agreement = agreement_with(grids[0], reference[0]);
      total.compared = true;
      total.agreement.add(column.agreement);
    }
    total.stats.add(column.stats);
    total.figures.add(column.figures);
    columns.push_back(std::move(column));
  }
  if (settings.inputs.size() > 1) columns.push_back(total);
  if (!reference.empty()) columns.push_back(analyze_grids(reference_name, reference));
  return style_report(columns, settings.json);
}

}  // namespace bachgen::commands
