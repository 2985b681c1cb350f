// Errors the generation commands throw for one bad input, so that a caller other than the
// command line (the studio server) can name the field at fault, and for a generation that ran
// past its time limit. what() reads as the command line prints it. Torch-free.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

namespace bachgen::generate {

// A bad value of one option: "primer", "bars", "key", "melody", "notes", "input".
struct OptionError : std::runtime_error {
  OptionError(std::string option_name, const std::string& message)
      : std::runtime_error(message), option(std::move(option_name)) {}
  std::string option;
};

// The generation ran longer than its time limit and was stopped; nothing was written.
struct TimeLimitExceeded : std::runtime_error {
  explicit TimeLimitExceeded(double limit_seconds)
      : std::runtime_error("the generation ran past its time limit of " + format(limit_seconds) + " s"), seconds(limit_seconds) {}
  double seconds;

 private:
  static std::string format(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
  }
};

}  // namespace bachgen::generate
