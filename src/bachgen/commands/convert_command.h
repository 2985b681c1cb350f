// `bachgen convert IN OUT`: four-part music from one file form to another, by extension: MIDI
// (.mid, .midi), MusicXML (.musicxml, .xml, compressed .mxl), the note text (.txt: one voice,
// the soprano unless --voice says otherwise) and, as input only, a JSB piece [FILE.json:]SPLIT:INDEX.
// What is written is spelled and engraved as every result is (render/musicxml.h). Torch-free;
// docs/generation.md#convert.
#pragma once

#include <string>
#include <vector>

#include "bachgen/music/chorale.h"

namespace bachgen::commands {

struct ConvertSettings {
  std::string input, output;
  std::vector<int> voices;  // the four parts (MusicXML) or tracks with notes (MIDI), from 1, read as S A T B
  std::string voice = "S";  // the voice a .txt output holds
  std::string title;        // the MusicXML title (default: the output's name)
  std::string jsb_file;     // the installed JSB data, for SPLIT:INDEX inputs
};

// Reads the input as a Chorale; throws std::runtime_error naming the file and the problem.
music::Chorale read_any_chorale(const std::string& input, const std::vector<int>& voices, const std::string& jsb_file);

// Converts; returns the line it prints ("wrote OUT: 4 voices, 32 bars in 4/4, D minor").
// Throws std::runtime_error naming the file and the problem; nothing is written then.
std::string run_convert(const ConvertSettings& settings);

}  // namespace bachgen::commands
