// MusicXML out: a four-part Chorale as a score-partwise MusicXML 3.1 document, written as an
// engraver would (docs/generation.md#musicxml): Soprano, Alto, Tenor (treble clef an octave
// down) and Bass parts; the key signature of the key with its mode; the meter, and a pickup as
// a short first measure (number 0, implicit), the last measure short by as much; pitches
// spelled from the key and the harmony (music/spelling.h), a melody's own spelling kept; notes
// split and tied at the half bar (4/4), the beats and the 8ths as the meter's rules have it;
// 8ths and 16ths beamed by the beat; fermatas where the chorale has them. Opens in MuseScore 3.
// Torch-free.
#pragma once

#include <string>
#include <vector>

#include "bachgen/music/chorale.h"
#include "bachgen/music/chorale_grid.h"

namespace bachgen::render {

using music::ChoraleGrid;

struct MusicXmlOptions {
  std::string title = "bachgen chorale";
  int tempo_bpm = 80;       // quarter notes per minute, written as a metronome mark
  int steps_per_bar = 16;   // 4/4; a multiple of 4 is written N/4, else N/8
};

// The grid as a chorale without a pickup, in the options' meter and tempo, its key guessed.
std::string to_musicxml(const ChoraleGrid& grid, const MusicXmlOptions& options = {});

// The chorale (its meter, pickup, tempo, key, fermatas and kept spellings). Steps after the last
// whole bar are padded with rests to a full bar, except a last bar exactly as short as the
// pickup's complement (as Bach's chorales end). Throws std::invalid_argument for a meter
// outside 1..64 16ths or a pickup not shorter than the bar.
// kTwo: the hymnal's layout, one Choir part on two staves (soprano and alto on the treble staff
// with stems up and down, tenor and bass on the bass staff), as a hymnal prints it.
enum class Staves { kFour, kTwo };
std::string to_musicxml(const music::Chorale& chorale, const std::string& title, Staves staves = Staves::kFour);

// Writes it atomically (temp file, then rename); throws std::runtime_error naming the file.
void write_musicxml(const std::string& path, const ChoraleGrid& grid, const MusicXmlOptions& options = {});

// Written note values on the 16th grid (exposed for tests): how a run of `length` 16ths from
// `position` within a bar of `steps_per_bar` is written, as the lengths of its tied pieces.
// A value stands alone only where the meter's rules allow it (4/4: a whole or dotted half on
// the downbeat, a half or dotted quarter on beat 1 or 3, a quarter or dotted 8th on a beat, an
// 8th on an 8th); anything else is split at its strongest inner boundary (the half bar, then
// a beat, then an 8th) and each side written the same way.
std::vector<int> written_values(int position, int length, int steps_per_bar);

}  // namespace bachgen::render
