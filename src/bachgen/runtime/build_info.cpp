// Version strings and resource lookup.
#include "bachgen/runtime/build_info.h"

#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "bachgen/io/files.h"
#include "bachgen_commit.h"

#ifndef BACHGEN_VERSION
#define BACHGEN_VERSION "0.0.0"
#endif
#ifndef BACHGEN_SOURCE_DIR
#define BACHGEN_SOURCE_DIR ""
#endif

namespace bachgen::runtime {

using io::is_directory;

const char* version() { return BACHGEN_VERSION; }
const char* commit() { return kBachgenCommit; }

std::string executable_path() {
  std::vector<char> buf(4096);
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  return std::string(buf.data(), static_cast<size_t>(n));
}

std::string resource_dir() {
  if (const char* home = std::getenv("BACHGEN_HOME"); home && is_directory(home)) return home;
  const std::string exe = executable_path();
  const size_t slash = exe.rfind('/');
  if (slash != std::string::npos) {
    const std::string installed = exe.substr(0, slash) + "/../share/bachgen";
    if (is_directory(installed)) {
      char resolved[4096];
      if (::realpath(installed.c_str(), resolved)) return resolved;
      return installed;
    }
  }
  return is_directory(BACHGEN_SOURCE_DIR) ? BACHGEN_SOURCE_DIR : "";
}

std::string installed_jsb_path() { return resource_dir() + "/data/jsb-chorales/Jsb16thSeparated.json"; }

}  // namespace bachgen::runtime
