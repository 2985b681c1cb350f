// Pitch spelling (issue 20): which letter and accidental a sounding pitch is written with, C
// sharp or D flat, from the key and the music around it. Temperley's line-of-fifths preference
// rules (The Cognition of Basic Musical Structures, 2001, ch. 5): a note is spelled near the
// centre of gravity of the spellings around it and of the key; notes that sound together are
// spelled close together on the line of fifths (a chord); a step of a semitone or a tone to the
// next (and from the previous) note of the same voice is spelled as a second, not as a unison
// or a third (G G# A rises by sharps, A Ab G falls by flats). The rules are met by iterated
// conditional modes: each note in turn takes its cheapest spelling given the others, until
// nothing changes. docs/generation.md#pitch-spelling gives the costs and the figure measured
// on the transcriber's spellings of the Greentree chorales. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/music/chorale.h"
#include "bachgen/music/key.h"

namespace bachgen::music {

// A place on the line of fifths: ... Eb -3, Bb -2, F -1, C 0, G 1, D 2, A 3, E 4, B 5, F# 6 ...
// Its pitch class is 7 * fifths mod 12; F-C-G-D-A-E-B repeat with one more sharp every 7.
// kUnspelled (music/chorale.h) stands for none.

struct Spelling {
  char step = 'C';  // A..G
  int alter = 0;    // -2 .. 2 in what we write; any in what we read
};

// Throws std::invalid_argument for a letter outside A-G.
int fifths_of_spelling(char step, int alter);
Spelling spelling_of_fifths(int fifths);
int pitch_class_of_fifths(int fifths);
// The octave written for MIDI `pitch` spelled as `fifths`: B#3 is MIDI 60, Cb4 is MIDI 59.
int written_octave(int pitch, int fifths);
// "C#4", "Bb3", "E4" (scientific pitch, C4 = MIDI 60).
std::string pitch_name(int pitch, int fifths);
// The key's tonic on the line of fifths: its signature's fifths for major, three more for minor.
int tonic_fifths(const KeyGuess& key);

struct SpellNote {
  int pitch = 60;        // MIDI
  int64_t onset = 0;     // in any unit, `per_quarter` of them to a quarter note
  int64_t end = 1;       // > onset
  int voice = 0;         // notes of one voice are one line (previous and next note)
  int fixed = kUnspelled;  // a spelling to keep (the user's melody as written), else kUnspelled
};

struct SpellOptions {
  double window_quarters = 8;  // the centre of gravity: notes starting within this many quarters
  double key_weight = 4;       // the key's centre counts as a note this many quarters long
  double chord_weight = 0.3;   // per overlapping note, per line-of-fifths step beyond chord_span
  int chord_span = 4;          // a major or minor triad spans 4 steps (C E G: 0 4 1)
  double step_in_weight = 0.5;   // from the previous note of the voice: a semitone or tone not spelled as a second
  double step_out_weight = 1.0;  // to the next one (a note resolves by step: G# to A)
  int max_rounds = 10;
};

// One line-of-fifths place per note (a fixed note keeps its own; any other has pitch class
// pitch mod 12, between double flat and double sharp). Deterministic; notes may come in any order.
std::vector<int> spell_notes(const std::vector<SpellNote>& notes, const KeyGuess& key, int64_t per_quarter,
                             const SpellOptions& options = {});

// Every note of a chorale's grid (a run of one pitch from an onset), spelled in the chorale's
// key (as known, else guessed) with its kept spellings: voice by voice, in time order. Steps
// count from the grid's first step (the lead rests of a pickup not counted).
struct SpelledNote {
  int voice = 0;
  int64_t start = 0;   // 16th steps
  int64_t length = 1;
  int pitch = 60;
  int fifths = 0;      // its place on the line of fifths
};
std::vector<SpelledNote> spelled_notes(const Chorale& chorale, const SpellOptions& options = {});

}  // namespace bachgen::music
