// The musician's figures of four-part music (issues 18 and 19): where notes start against the
// beat, how much stays in the key, whether the piece ends on the tonic, whether the beats are
// chords, how busy and how leapy the lower voices are. Counts, so pieces add up to a corpus;
// each figure is defined in docs/generation.md#analyze. Onsets follow the hold rule of the JSB
// grid (a repeated pitch is held), whatever the source marks, so MIDI, MusicXML and JSB pieces
// measure alike. Steps count from the grid's first step, which is on a beat. Torch-free.
#pragma once

#include <cstdint>

#include "bachgen/music/chorale_grid.h"

namespace bachgen::music {

struct ChoraleFigures {
  int64_t pieces = 0;             // grids with any sounding step
  int64_t onsets = 0;             // note onsets, all voices
  int64_t odd_step_onsets = 0;    // ... on an odd 16th step (off the 8th grid)
  int64_t scale_onsets = 0;       // ... whose pitch class is in the piece's key's scale
  int64_t tonic_endings = 0;      // pieces whose last chord is the tonic, tonic in the bass
  int64_t beats = 0;              // quarter beats where some voice sounds
  int64_t chord_beats = 0;        // ... whose pitch classes fit one triad or seventh chord
  int64_t lower_onsets = 0;       // alto, tenor and bass onsets
  int64_t quarters_x4 = 0;        // the music's length in 16ths (up to its last sounding step)
  int64_t inner_moves = 0;        // alto and tenor: moves from one note to the next
  int64_t inner_semitones = 0;    // ... their sizes summed
  int64_t inner_leaps = 0;        // ... those larger than a major third (5 semitones and up)

  void add(const ChoraleFigures& other);
  double odd_step_onsets_percent() const;
  double scale_notes_percent() const;
  double tonic_endings_percent() const;
  double chord_beats_percent() const;
  double lower_onsets_per_quarter() const;  // per quarter per voice
  double inner_mean_interval() const;       // semitones
  double inner_leaps_percent() const;
};

// How far a realization agrees with a reference one of the same melody (issue 19: our
// harmonization of a Bach soprano beside Bach's own), on the quarter beats both have (steps
// 0, 4, 8, ... of both grids, each from its first beat): the bass's pitch class, where both
// basses sound; the chord, as the set of pitch classes sounding in all voices, where both sound.
struct Agreement {
  int64_t bass_beats = 0, same_bass = 0;
  int64_t chord_beats = 0, same_chord = 0;
  void add(const Agreement& other);
  double bass_percent() const;
  double chord_percent() const;
};
Agreement agreement_with(const ChoraleGrid& ours, const ChoraleGrid& reference);

// The figures of one piece; the key is the Krumhansl-Kessler guess of music/key.h.
ChoraleFigures chorale_figures(const ChoraleGrid& grid);

struct KeyGuess;

// Whether the pitch is in the key's scale: major, or minor with both its raised 6th and 7th
// (natural minor and melodic minor together: 9 pitch classes).
bool in_key_scale(int pitch, const KeyGuess& key);

// Whether the last chord (the pitches at the last step where any voice sounds) is the tonic:
// the bass sounds the tonic and every pitch class lies in the tonic triad (major keys 1 3 5,
// minor keys 1 b3 5 or the Picardy 1 3 5); the third or the fifth may be missing.
bool ends_on_tonic(const ChoraleGrid& grid, const KeyGuess& key);

// Whether these pitch classes (a 12-bit mask, bit p for pitch class p) all belong to one major,
// minor, diminished or augmented triad, or one dominant, major, minor, half-diminished or
// diminished seventh chord.
bool fits_one_chord(unsigned pitch_class_mask);

}  // namespace bachgen::music
