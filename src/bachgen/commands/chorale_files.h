// What every chorale command writes: NAME.mid, NAME.musicxml and, unless the audio is none,
// NAME.wav or NAME.flac, each atomically (temp file, then rename), from the library's Chorale
// (render/chorale_render.h, render/audio.h). Torch-free; docs/generation.md#output-files.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bachgen/music/chorale.h"
#include "bachgen/render/audio.h"

namespace bachgen::commands {

struct ChoraleFiles {
  render::AudioFormat audio = render::AudioFormat::kWav;
  std::string soundfont;        // empty: render/audio.h's default
  std::unique_ptr<render::Synthesizer> synthesizer;  // made at the first audio file

  // Throws std::runtime_error naming the file and the problem; returns the paths written.
  std::vector<std::string> write(const music::Chorale& chorale, const std::string& name);
  // NAME.EXT of a MIDI file's bytes, through the synthesizer.
  std::string write_audio(const std::string& midi_bytes, const std::string& name);
};

}  // namespace bachgen::commands
