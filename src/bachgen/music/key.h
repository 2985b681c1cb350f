// Key analysis: which major or minor key a piece is in (Krumhansl-Kessler profiles over its
// pitch classes), and key names as users write them ("D minor", "Eb major", "F#m"). Music
// theory, so every layer above may ask it: the MusicXML writer for the key signature, the
// composer for --key, the studio for the key field. Torch-free.
#pragma once

#include <string>

#include "bachgen/music/chorale_grid.h"

namespace bachgen::music {

struct KeyGuess {
  int fifths = 0;       // -7 .. 7: flats negative, sharps positive
  bool minor = false;
  int tonic = 0;        // pitch class of the tonic
  std::string name() const;  // "D minor", "Eb major"
};

// The major or minor key whose Krumhansl-Kessler profile correlates best with the
// duration-weighted pitch-class histogram of the grid (C major for an empty grid).
KeyGuess guess_key(const ChoraleGrid& grid);

// "D minor", "Eb major", "F#m", "C" (major when no mode is given). Throws
// std::invalid_argument for anything else.
KeyGuess parse_key(const std::string& text);

// The key `semitones` higher (lower when negative): its tonic moved, its mode kept, its
// signature the one of fewer accidentals (F# major over Gb major).
KeyGuess transposed_key(const KeyGuess& key, int semitones);

// A grid moved into another key: its key is guessed and the grid transposed so that its tonic
// becomes the target's, by the octave choice that keeps the most notes in their voices' ranges
// (music/voice_leading.h; the smaller shift on a tie). A major piece stays major: mode_matches
// says whether the modes agree, and `to` names the key the grid is in afterwards.
struct KeyChange {
  std::string from, to;
  int semitones = 0;
  bool mode_matches = true;
};
KeyChange transpose_into_key(ChoraleGrid& grid, const KeyGuess& target);

}  // namespace bachgen::music
