// What every chorale command writes: NAME.mid (four named tracks, choir program, tempo and
// meter), NAME.musicxml and, unless audio is "none", NAME.wav or NAME.flac through FluidSynth.
// Each file is written atomically. Torch-free; docs/generation.md#output-files.
#pragma once

#include <string>
#include <vector>

#include "bachgen/music/chorale_grid.h"

namespace bachgen::generate {

struct ChoraleOutputOptions {
  double tempo = 80;        // quarter notes per minute
  int steps_per_bar = 16;   // the meter in 16ths (16 = 4/4, 12 = 3/4)
  int lead_rests = 0;       // rest steps written before the grid, so that a pickup fills its bar
  std::string audio = "wav";  // wav | flac | none
  std::string soundfont;    // empty: render/audio.h's default
};

// Throws std::runtime_error naming the file and the problem; returns the paths written.
std::vector<std::string> write_chorale(const music::ChoraleGrid& grid, const std::string& name,
                                       const ChoraleOutputOptions& options);

// Checks --audio: wav, flac or none (std::runtime_error otherwise).
void check_audio_format(const std::string& audio);

// Where the bundled models live: RESOURCES/models (runtime::resource_dir()).
std::string bundled_models_dir();
// --model: empty = the bundled `default_name`; an existing file = itself; else a bundled model
// by name (models/NAME.pt). Throws std::runtime_error listing the bundled names.
std::string resolve_model(const std::string& model, const std::string& default_name);

}  // namespace bachgen::generate
