// Progress for long jobs: on a terminal a bar redrawn in place (done/total, rate, ETA and a
// status text such as the training loss); into a file or pipe, a plain line every tenth of the
// way (or every N units), so logs stay readable.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace bachgen::io {

// "42 s" under a minute, "12:05" under an hour, "1:02:03" above (rounded to the second).
std::string format_duration(double seconds);

class Progress {
 public:
  // `out` may be null: no output at all.
  Progress(std::string label, size_t total, std::string unit, std::FILE* out = stderr);
  // Reports `done` units; redraws at most every 100 ms (terminal) or each 10 % (otherwise).
  void update(size_t done);
  // Text shown after the rate and ETA on the next draw (e.g. "loss 2.1345  lr 1.00e-03").
  void set_status(std::string status) { status_ = std::move(status); }
  // Plain (non-terminal) output: a line every `n` units instead of every tenth; 0 = tenths.
  void set_plain_every(size_t n) { plain_every_ = n; }
  bool is_tty() const { return tty_; }
  // Ends the bar with a final line: "LABEL: TOTAL UNIT in S s (RATE UNIT/s) SUMMARY", or
  // "LABEL: DONE/TOTAL UNIT in ..." when the last update reported fewer than the total (a job
  // stopped early).
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
  size_t done_ = 0;  // the last update's count
  size_t plain_every_ = 0;
  std::string status_;
  bool finished_ = false;
};

}  // namespace bachgen::io
