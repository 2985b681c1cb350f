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

// A JSB piece as the commands name it: [FILE.json:]SPLIT:INDEX ("test:3",
// "data/Jsb16thSeparated.json:valid:0"); or, where `index_required` is false, also
// [FILE.json:]SPLIT alone (a whole split: index -1). The one parser of that notation.
struct JsbRef {
  std::string file;    // the JSON file (default_file when the text names none)
  std::string split;   // train | valid | test
  long long index = -1;  // -1: the whole split
};
// Throws std::invalid_argument naming the text and what is wrong: no split, a split other than
// train/valid/test, an index that is not a whole number of digits (no sign, no trailing text).
JsbRef parse_jsb_ref(const std::string& text, const std::string& default_file, bool index_required = true);
// Whether the text is meant as a JSB reference rather than a file path: it names a .json file
// followed by ':', or it is SPLIT:... with a split's name.
bool looks_like_jsb_ref(const std::string& text);
// The piece: loads ref.file and checks the index against the split's size (std::runtime_error
// "TEXT: no piece N in SPLIT (0-M)").
music::ChoraleGrid load_jsb_piece(const JsbRef& ref);

}  // namespace bachgen::data
