// The style figures of four-part music (music/voice_leading.h's StyleStats and
// music/chorale_figures.h's ChoraleFigures), one column per
// piece or corpus, as the table or the JSON that `bachgen analyze` prints
// (commands/analyze_command.h reads the files). Torch-free; docs/generation.md.
#pragma once

#include <string>
#include <vector>

#include "bachgen/music/chorale_figures.h"
#include "bachgen/music/voice_leading.h"

namespace bachgen::music {

struct StyleColumn {
  std::string name;
  StyleStats stats;
  ChoraleFigures figures;
  std::string key;  // one piece: its Krumhansl-Kessler key ("D minor"); empty for several
  bool compared = false;   // `analyze --reference PIECE`: agreement with that realization
  Agreement agreement;
};

// A table (a line per column and a legend) or, with as_json, a JSON array of one object per
// column ("name", "key" where known, every figure, and for compared columns
// "reference_bass_percent", "reference_chord_percent" and their beat counts).
std::string style_report(const std::vector<StyleColumn>& columns, bool as_json);

}  // namespace bachgen::music
