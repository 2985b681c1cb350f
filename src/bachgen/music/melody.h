// Melodies to harmonize: one line on the 16th grid, read from a note text (`--notes`), a MIDI
// file (its highest sounding notes) or a MusicXML file (its first part, the top note of each
// chord; read with pugixml). Torch-free; docs/generation.md#melody-input gives the formats.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bachgen/music/chorale.h"
#include "bachgen/music/chorale_grid.h"
#include "bachgen/music/key.h"

namespace bachgen::music {

struct Melody {
  std::vector<int8_t> pitches;  // one per 16th step; kSilent for a rest
  std::vector<bool> onsets;     // a note starts here (repeated notes stay separate)
  int steps_per_bar = 16;       // from the time signature (4/4 unless one is given)
  int pickup_steps = 0;         // steps before the first bar line (an anacrusis); 0 = none
  double tempo_bpm = 0;         // quarter notes per minute, when the source gives one
  std::vector<bool> fermatas;   // MusicXML: a note under a fermata starts here (as long as
                                // pitches); empty from sources without fermatas
  std::optional<KeyGuess> key;  // MusicXML: the key its first <key> names
  std::vector<int> spellings;   // note text and MusicXML: the written spelling of a note starting
                                // here (line of fifths, music/spelling.h), else kUnspelled; as
                                // long as pitches, or empty (MIDI)
  size_t steps() const { return pitches.size(); }
};

// The note text: whitespace-separated items, e.g. "3/4 G4:1 | C5:1.5 D5:0.5 E5:1 | r:1 ...".
//   NOTE[:DUR]  a pitch name A-G, accidentals # or b (any number), an octave (C4 = MIDI 60),
//               then an optional duration in quarter notes: 1, 0.5, 1.5, 3/2, 0.25 ... (a
//               multiple of a 16th); without one, the previous item's duration (first: 1).
//               A trailing ~ ties the note to the next one, which must have the same pitch.
//   r[:DUR]     a rest (R too).
//   |           a bar line: checked against the meter; the first bar may be shorter (a pickup).
//   N/D         first item only: the time signature (D 2, 4, 8 or 16); 4/4 when absent.
// Throws std::invalid_argument "item K ('TEXT'): PROBLEM".
Melody parse_melody_text(const std::string& text);

// One voice of a chorale as note text that parse_melody_text reads back (its pitches, onsets,
// meter, pickup and spelling): the time signature first unless 4/4, a bar line after each bar
// (the pickup's too), notes spelled as the MusicXML spells them (music/spelling.h), a note
// that crosses a bar line tied over it (`C5:2~ | C5:1`), durations in quarters.
std::string melody_text(const Chorale& chorale, int voice = 0);

// The melody as the soprano of a chorale whose other voices are silent: its pitches and onsets,
// meter and pickup (nothing else of it).
Chorale soprano_chorale(const Melody& melody);

// The highest sounding note at each 16th step of every track (a melody track alone reads as
// itself). Onsets must lie on the 16th grid. Time signature, pickup (none) and tempo from the
// file. Throws std::runtime_error "PATH: PROBLEM".
Melody read_melody_midi(const std::string& path);
// The same over a file's bytes in memory (`name` for messages).
Melody parse_melody_midi(const std::vector<uint8_t>& bytes, const std::string& name);

// score-partwise MusicXML: the first part, voice 1 (the first voice met), the top note of each
// chord; ties, rests, <backup>/<forward> across voices, time signatures, an implicit first
// measure (a pickup), fermatas and the key (music/musicxml_part.h). Throws std::runtime_error "PATH: measure N: PROBLEM".
Melody read_melody_musicxml(const std::string& path);
// The same over a document in memory (`name` for messages); what the fuzz target drives.
Melody parse_melody_musicxml(const std::string& document, const std::string& name);

// Compressed MusicXML (.mxl, what MuseScore exports by default): a ZIP archive whose
// META-INF/container.xml names the score (its first rootfile; without a container, the one
// .musicxml/.xml entry outside META-INF), read as above. Throws std::runtime_error
// "PATH: PROBLEM" (for the score's own problems, "PATH:ENTRY: measure N: PROBLEM").
Melody read_melody_mxl(const std::string& path);
Melody parse_melody_mxl(const std::vector<uint8_t>& archive, const std::string& name);

// A melody file's bytes in memory, by its format (an upload's extension).
enum class MelodyFormat { kMidi, kMusicXml, kMxl };
Melody parse_melody(const std::vector<uint8_t>& bytes, MelodyFormat format, const std::string& name);
// By extension: .mid/.midi, .musicxml/.xml, .mxl; anything else is refused.
Melody read_melody(const std::string& path);

// Whether a melody can be a soprano to harmonize: at least one note, every note inside
// lowest..highest, at most max_steps steps. Throws std::invalid_argument "WHERE: PROBLEM"
// naming the first bad note by bar and beat.
void check_soprano(const Melody& melody, const std::string& where, int lowest, int highest, size_t max_steps);

// How far to move a melody so that it lies within lowest..highest (`--transpose auto`): 0 when
// it does; else by octaves when that fits (the smaller move first, up on a tie; *by_octaves
// true), else the smallest move by semitones (up on a tie; *by_octaves false: the harmonizer
// then moves its result back into the melody's key). Throws std::invalid_argument when the
// melody spans more than the range, or has no notes.
int fitting_shift(const Melody& melody, int lowest, int highest, bool* by_octaves);
// The melody moved by `semitones` (its spellings, key and all else kept).
Melody shifted_melody(const Melody& melody, int semitones);

// "bar 3 beat 2" (+ "and a 16th" ...) of a step, counting the pickup as bar 0.
std::string describe_step(const Melody& melody, size_t step);

}  // namespace bachgen::music
