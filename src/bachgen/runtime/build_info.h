// The version and commit this binary was built from, and where its installed resources
// (bundled models, web assets, docs) live, found relative to the executable.
#pragma once

#include <string>

namespace bachgen::runtime {

const char* version();  // the project version, e.g. "0.1.0"
const char* commit();   // the git commit at build time ("+dirty" when the tree had changes)

std::string executable_path();  // /proc/self/exe, resolved
// The first of: $BACHGEN_HOME; <exe dir>/../share/bachgen (an installed tree); the source
// tree this binary was built from. Empty when none exists.
std::string resource_dir();
// Where scripts/get-data.sh puts the JSB Chorales: RESOURCES/data/jsb-chorales/Jsb16thSeparated.json
// (generate's SPLIT:INDEX primers and --key, infill's inputs, analyze's Bach column).
std::string installed_jsb_path();

}  // namespace bachgen::runtime
