// The JSB Chorales benchmark (Jsb16thSeparated.json): 382 chorales on a 16th-note grid with the
// standard train / valid / test split (229 / 76 / 77). Format: docs/data.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bachgen/music/chorale_grid.h"

namespace bachgen::data {

struct JsbCorpus {
  std::vector<music::ChoraleGrid> train;
  std::vector<music::ChoraleGrid> valid;
  std::vector<music::ChoraleGrid> test;

  // "train", "valid" or "test"; throws std::invalid_argument for another name.
  const std::vector<music::ChoraleGrid>& split(std::string_view name) const;
};

// Reads the JSON file. Throws std::runtime_error "FILE: PROBLEM" naming the split, chorale and
// step of any malformed entry (a step that is not 4 numbers, a pitch outside -1..127), or the
// byte offset of a JSON syntax error. The grids carry no onset flags (the format has none).
JsbCorpus load_jsb(const std::string& path);
JsbCorpus parse_jsb(std::string_view json_text, const std::string& source_name);

}  // namespace bachgen::data
