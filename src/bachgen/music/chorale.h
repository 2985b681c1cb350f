// A chorale as the library passes it around: the SATB grid with what a musician needs to read
// it: the meter, the pickup, the tempo and (when known) the key. Composer and Harmonizer
// return it; render/chorale_render.h turns it into MIDI bytes, MusicXML text and the notes
// JSON the studio draws, render/audio.h into audio samples. A plain value, torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "bachgen/music/chorale_grid.h"
#include "bachgen/music/key.h"

namespace bachgen::music {

struct Chorale {
  ChoraleGrid grid;             // from the first written note; (steps, 4)
  int steps_per_bar = 16;       // the meter in 16ths: 16 = 4/4, 12 = 3/4
  int pickup_steps = 0;         // 0: the grid starts on a downbeat; else its first bar is an
                                // anacrusis of this many 16ths (filled with rests when written)
  double tempo = 80;            // quarter notes per minute
  std::optional<KeyGuess> key;  // the key, where the maker knows it; else guess_key(grid)
  std::vector<bool> fermatas;   // steps where a note under a fermata starts, in any voice (the
                                // phrase ends); as long as the grid, or empty when unknown

  // Rests written before the grid so that a pickup fills its bar.
  int lead_rests() const { return pickup_steps > 0 ? steps_per_bar - pickup_steps : 0; }
  // Bars as written (the pickup's bar counts).
  int64_t bars() const {
    const int64_t steps = static_cast<int64_t>(grid.steps()) + lead_rests();
    return (steps + steps_per_bar - 1) / steps_per_bar;
  }
  // The grid with the lead rests in front: what the files hold.
  ChoraleGrid written_grid() const {
    ChoraleGrid padded = grid;
    const int rests = lead_rests();
    if (rests > 0) {
      GridStep rest;
      rest.fill(kSilent);
      padded.pitches.insert(padded.pitches.begin(), static_cast<size_t>(rests), rest);
      if (padded.knows_onsets()) padded.onsets.insert(padded.onsets.begin(), static_cast<size_t>(rests), {false, false, false, false});
    }
    return padded;
  }
  KeyGuess key_or_guess() const { return key ? *key : guess_key(grid); }
};

}  // namespace bachgen::music
