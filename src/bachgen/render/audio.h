// Audio out: a MIDI file rendered to WAV or FLAC by FluidSynth (Debian's `fluidsynth` program)
// with a General MIDI soundfont (Debian's timgm6mb-soundfont by default). The output is
// written to a temporary file and renamed, so it is complete or absent. Torch-free;
// docs/generation.md#audio.
#pragma once

#include <string>

namespace bachgen::render {

struct AudioOptions {
  std::string format = "wav";  // wav | flac
  std::string soundfont;       // empty: $BACHGEN_SOUNDFONT, else Debian's GM soundfonts
  int sample_rate = 44100;
  double gain = 0.5;
};

// The soundfont to use: `requested` if given, else $BACHGEN_SOUNDFONT, else the first of
// /usr/share/sounds/sf2/{TimGM6mb,default-GM,FluidR3_GM}.sf2 that exists. Throws
// std::runtime_error saying how to get one.
std::string find_soundfont(const std::string& requested = "");

// Renders `midi_path` to `out_path` (16-bit stereo at `sample_rate`). Throws std::runtime_error
// naming the file and the problem (no fluidsynth, no soundfont, FluidSynth's own error).
void render_audio(const std::string& midi_path, const std::string& out_path, const AudioOptions& options = {});

}  // namespace bachgen::render
