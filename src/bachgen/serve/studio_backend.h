// The studio's real backend, on the library API: each worker of the pool holds its own
// Composer, Harmonizer and Synthesizer (generate/composer.h, generate/harmonizer.h,
// render/audio.h), loaded once at start; uploads are parsed from memory and results built in
// memory (MIDI, MusicXML, WAV, notes JSON), so a request writes no file and reloads nothing.
// Torch-free header; docs/studio.md.
#pragma once

#include <memory>
#include <string>

#include "bachgen/serve/studio_server.h"

namespace bachgen::serve {

struct ModelBackendOptions {
  std::string compose_model;   // a chorale next-token model (file or bundled name); empty = jsb-compose
  std::string infill_model;    // a conditioning model; empty = the bundled jsb-harmonize
  std::string audio = "wav";   // wav | none
  std::string soundfont;       // empty: render/audio.h's default
  int64_t max_bars = 32;       // the longest melody harmonized (StudioLimits::max_bars)
  int workers = 1;             // the pool's threads: one set of models each
};

// Loads the models of every worker at start (a wrong or missing model stops `serve` before it
// listens) and describes them in /api/info. Throws std::runtime_error naming the model.
std::unique_ptr<StudioBackend> make_model_backend(const ModelBackendOptions& options);

}  // namespace bachgen::serve
