// The library API's errors (Composer, Harmonizer): an InputError says which input is wrong
// and what is wrong with it, in words for a musician and without naming a command-line flag or
// a temp file, so the CLI (commands/) and the studio (serve/) each word it their own way: the
// CLI leads with its flag ("--notes: ..."), the studio names the JSON field. A generation that
// ran past its time limit is a TimeLimitExceeded. Torch-free.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

namespace bachgen::generate {

// The inputs of a composition or harmonization that can be wrong.
enum class Input {
  kModel,      // the model: missing, of the wrong kind or vocabulary
  kPrimer,     // the music to continue
  kLength,     // bars / steps
  kKey,        // the key asked for
  kMelody,     // a melody file (MIDI, MusicXML)
  kNotes,      // a melody as note text (music/melody.h)
  kChorale,    // the chorale to redraw
  kSelection,  // the bars or voices to redraw
  kOption,     // a sampling or other option
};
inline const char* input_name(Input input) {
  switch (input) {
    case Input::kModel: return "model";
    case Input::kPrimer: return "primer";
    case Input::kLength: return "bars";
    case Input::kKey: return "key";
    case Input::kMelody: return "melody";
    case Input::kNotes: return "notes";
    case Input::kChorale: return "input";
    case Input::kSelection: return "selection";
    case Input::kOption: return "option";
  }
  return "?";
}

// what() is the problem, naming the place in the input where there is one ("bar 3: ...",
// "tune.mid: byte 120: ...").
struct InputError : std::runtime_error {
  InputError(Input which, const std::string& problem) : std::runtime_error(problem), input(which) {}
  Input input;
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
