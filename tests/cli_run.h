// Running the real `bachgen` binary (or any command) from a test: exit code, stdout, stderr.
// Temp files are named after the running test, because CTest runs tests in parallel.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "midi_bytes.h"

namespace bachgen::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string test_file(const std::string& suffix) {
  return temp_path(std::string("t_") + ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                   "_" + suffix);
}

// Runs `'program' args` through the shell.
inline CliResult run_command(const std::string& program, const std::string& args) {
  const std::string out = test_file("out.txt");
  const std::string err = test_file("err.txt");
  const std::string command = "'" + program + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

}  // namespace bachgen::testing
