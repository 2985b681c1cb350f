// Four-part MIDI into a Chorale.
#include "bachgen/music/chorale_midi.h"

#include <algorithm>
#include <stdexcept>

#include "bachgen/music/musicxml_part.h"
#include "bachgen/music/spelling.h"

namespace bachgen::music {

Chorale chorale_from_score(const Score& score, const std::string& name, const std::vector<int>& voices) {
  std::vector<int> chosen = voices;
  if (chosen.empty()) {
    if (score.voices() < kVoices) {
      throw std::runtime_error(name + ": " + std::to_string(score.voices()) + " voice track(s); a chorale is four (S, A, T, B)");
    }
    chosen = {1, 2, 3, 4};
  }
  if (chosen.size() != kVoices) throw std::runtime_error(name + ": " + std::to_string(chosen.size()) + " voices chosen; choose four (S, A, T, B)");
  for (int v : chosen) {
    if (v < 1 || v > score.voices()) {
      throw std::runtime_error(name + ": there is no voice " + std::to_string(v) + " (the file has " + std::to_string(score.voices()) +
                               " track(s) with notes)");
    }
  }
  if (score.ticks_per_quarter % 4 != 0) throw std::runtime_error(name + ": the tick resolution does not divide into 16ths");
  Score four = score;
  four.notes.clear();
  four.voice_names.assign(kVoices, "");
  for (const ScoreNote& n : score.notes) {
    for (int v = 0; v < kVoices; ++v) {
      if (n.voice == chosen[static_cast<size_t>(v)] - 1) {
        ScoreNote m = n;
        m.voice = v;
        four.notes.push_back(m);
      }
    }
  }
  four.sort_notes();
  Chorale c;
  if (!score.time_signatures.empty()) {
    const midi::TimeSignature& ts = score.time_signatures.front().signature;
    const int spb = steps_per_bar_of(ts.numerator, ts.denominator);
    if (spb <= 0 || spb > 64) {
      throw std::runtime_error(name + ": its time signature " + std::to_string(ts.numerator) + "/" + std::to_string(ts.denominator) +
                               " does not fit the 16th grid");
    }
    c.steps_per_bar = spb;
  }
  if (!score.tempos.empty() && score.tempos.front().us_per_quarter > 0) {
    c.tempo = std::clamp(60e6 / score.tempos.front().us_per_quarter, 10.0, 400.0);
  }
  if (!score.key_signatures.empty()) {
    const midi::KeySignature& k = score.key_signatures.front().signature;
    if (k.sharps_flats >= -7 && k.sharps_flats <= 7) {
      KeyGuess key;
      key.fifths = k.sharps_flats;
      key.minor = k.minor;
      key.tonic = pitch_class_of_fifths(key.fifths + (key.minor ? 3 : 0));
      c.key = key;
    }
  }
  try {
    c.grid = score_to_grid(four);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(name + ": " + e.what());
  }
  // Trailing silence is not music; leading silence is a pickup (the file starts on a bar line).
  while (!c.grid.pitches.empty() && std::all_of(c.grid.pitches.back().begin(), c.grid.pitches.back().end(), [](int8_t p) { return p == kSilent; })) {
    c.grid.pitches.pop_back();
    if (c.grid.knows_onsets()) c.grid.onsets.pop_back();
  }
  if (c.grid.pitches.empty()) throw std::runtime_error(name + ": the four voices have no notes");
  c.start_at_first_note();
  return c;
}

Chorale read_chorale_midi(const std::string& path, const std::vector<int>& voices) {
  return chorale_from_score(read_score_midi(path), path, voices);
}

}  // namespace bachgen::music
