// A chorale as the library passes it around: the SATB grid with what a musician needs to read
// it: the meter, the pickup, the tempo and (when known) the key. Composer and Harmonizer
// return it; render/chorale_render.h turns it into MIDI bytes, MusicXML text and the notes
// JSON the studio draws, render/audio.h into audio samples. A plain value, torch-free.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <climits>
#include <optional>
#include <vector>

#include "bachgen/music/chorale_grid.h"
#include "bachgen/music/key.h"

namespace bachgen::music {

// No spelling known (music/spelling.h: a place on the line of fifths otherwise).
inline constexpr int kUnspelled = INT_MIN;

struct Chorale {
  ChoraleGrid grid;             // from the first written note; (steps, 4)
  int steps_per_bar = 16;       // the meter in 16ths: 16 = 4/4, 12 = 3/4
  int pickup_steps = 0;         // 0: the grid starts on a downbeat; else its first bar is an
                                // anacrusis of this many 16ths (filled with rests when written)
  double tempo = 80;            // quarter notes per minute
  std::optional<KeyGuess> key;  // the key, where the maker knows it; else guess_key(grid)
  std::vector<bool> fermatas;   // steps where a note under a fermata starts, in any voice (the
                                // phrase ends); as long as the grid, or empty when unknown
  // Spellings to keep (the user's melody as written): the line-of-fifths place
  // (music/spelling.h) of the note each voice starts at each step, or kUnspelled; as long
  // as the grid, or empty when none is known. Every other note is spelled when written.
  std::vector<std::array<int, kVoices>> spellings;

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
  // Starts the grid at its first note, as the convention above has it: leading silent steps
  // go (with their onsets, fermatas and spellings), and the pickup becomes what then stands
  // before the first bar line, given that the grid began `pickup_steps` before one.
  void start_at_first_note() {
    size_t lead = 0;
    while (lead < grid.steps() && std::all_of(grid.pitches[lead].begin(), grid.pitches[lead].end(), [](int8_t p) { return p == kSilent; })) ++lead;
    if (lead == 0 || lead == grid.steps()) return;
    const int64_t p = pickup_steps, l = static_cast<int64_t>(lead), spb = steps_per_bar;
    pickup_steps = static_cast<int>(l < p ? p - l : ((l - p) % spb == 0 ? 0 : spb - (l - p) % spb));
    const auto cut = static_cast<std::ptrdiff_t>(lead);
    grid.pitches.erase(grid.pitches.begin(), grid.pitches.begin() + cut);
    if (grid.knows_onsets()) grid.onsets.erase(grid.onsets.begin(), grid.onsets.begin() + cut);
    if (fermatas.size() >= lead) fermatas.erase(fermatas.begin(), fermatas.begin() + cut);
    if (spellings.size() >= lead) spellings.erase(spellings.begin(), spellings.begin() + cut);
  }
};

}  // namespace bachgen::music
