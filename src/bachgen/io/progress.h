// Progress for long jobs: on a terminal a bar redrawn in place (done/total, rate, ETA); into a
// file or pipe, a plain line every tenth of the way, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace bachgen::io {

class Progress {
 public:
  Progress(std::string label, size_t total, std::string unit, std::FILE* out = stderr);
  // Reports `done` units; redraws at most every 100 ms (terminal) or each 10 % (otherwise).
  void update(size_t done);
  // Ends the bar with a final line: "LABEL: TOTAL UNIT in S s (RATE UNIT/s) SUMMARY".
  void finish(const std::string& summary = "");
  double elapsed_seconds() const;

 private:
  void draw(size_t done, bool final);

  std::string label_;
  size_t total_;
  std::string unit_;
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  size_t last_tenth_ = 0;
  bool finished_ = false;
};

}  // namespace bachgen::io
