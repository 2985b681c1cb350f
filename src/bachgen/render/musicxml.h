// MusicXML out: four-part music on the 16th grid as a score-partwise MusicXML 3.1 document
// (Soprano, Alto, Tenor, Bass parts; 4/4 measures; notes split into written values and tied
// across bar lines; a key signature inferred from the pitches, music/key.h). Opens in MuseScore 3.
// Torch-free; docs/generation.md#musicxml.
#pragma once

#include <string>

#include "bachgen/music/chorale_grid.h"

namespace bachgen::render {

using music::ChoraleGrid;

struct MusicXmlOptions {
  std::string title = "bachgen chorale";
  int tempo_bpm = 80;       // quarter notes per minute, written as a metronome mark
  int steps_per_bar = 16;   // 4/4; a multiple of 4 is written N/4, else N/8
};

// The document. Steps after the last whole bar are padded with rests to a full bar.
std::string to_musicxml(const ChoraleGrid& grid, const MusicXmlOptions& options = {});

// Writes it atomically (temp file, then rename); throws std::runtime_error naming the file.
void write_musicxml(const std::string& path, const ChoraleGrid& grid, const MusicXmlOptions& options = {});

}  // namespace bachgen::render
