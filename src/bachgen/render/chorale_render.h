// A Chorale (music/chorale.h) in the forms a client needs, built in memory: a Standard MIDI
// File (four named tracks, choir program, tempo and meter), a MusicXML document, and the notes
// JSON of the studio's piano roll. Audio is render/audio.h's Synthesizer over the MIDI bytes.
// Torch-free.
#pragma once

#include <string>

#include "bachgen/music/chorale.h"

namespace bachgen::render {

// The MIDI file's bytes (480 ticks per quarter).
std::string chorale_midi(const music::Chorale& chorale);

// The MusicXML document (render/musicxml.h), titled `title`.
std::string chorale_musicxml(const music::Chorale& chorale, const std::string& title);

// {"steps_per_bar", "tempo", "steps", "bars", "voices": ["S","A","T","B"],
//  "notes": [[voice, start, length, pitch, name], ...]}: start and length in 16th steps, the
// lead rests of a pickup counted (as in the MIDI file); name the pitch as the MusicXML spells
// it ("C#5", music/spelling.h). What GET
// /api/results/ID.json serves.
std::string chorale_notes_json(const music::Chorale& chorale);

}  // namespace bachgen::render
