// Locating the chorale data for tests: data/ of the source tree after scripts/get-data.sh,
// else $BACHGEN_DATA_MIRROR. Tests that need it skip, saying so, when neither has it.
#pragma once


#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "bachgen/io/files.h"

namespace bachgen::testing {

// The folder holding `relative` (e.g. "bach-chorales-midi/satb"), or "" if absent.
inline std::string find_data_dir(const std::string& relative) {
  const std::string in_tree = std::string(BACHGEN_SOURCE_DIR) + "/data/" + relative;
  if (io::is_directory(in_tree)) return in_tree;
  if (const char* mirror = std::getenv("BACHGEN_DATA_MIRROR")) {
    const std::string m = std::string(mirror) + "/" + relative;
    if (io::is_directory(m)) return m;
  }
  return "";
}

inline std::vector<std::string> list_files(const std::string& dir, const std::string& suffix) {
  return io::list_files(dir, {suffix});
}

}  // namespace bachgen::testing

// Declares `dir` as the corpus folder `relative`, or skips the test, saying why.
#define BACHGEN_REQUIRE_DATA(dir, relative)                                                  \
  const std::string dir = ::bachgen::testing::find_data_dir(relative);                       \
  if (dir.empty()) {                                                                         \
    GTEST_SKIP() << relative << " absent: run scripts/get-data.sh or set BACHGEN_DATA_MIRROR"; \
  }
