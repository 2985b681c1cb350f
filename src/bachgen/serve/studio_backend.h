// The studio's real backend: compose, harmonize and infill run the same code as the commands
// (generate/generate_command.h, generate/harmonize_command.h) in a private temp folder per job,
// and the files they write come back as bytes. Torch-free header; docs/studio.md.
#pragma once

#include <memory>
#include <string>

#include "bachgen/serve/studio_server.h"

namespace bachgen::serve {

struct ModelBackendOptions {
  std::string compose_model;   // a chorale next-token model (file or bundled name); empty = jsb-default
  std::string infill_model;    // a conditioning model; empty = jsb-infill
  std::string audio = "wav";   // wav | none
  std::string soundfont;       // empty: render/audio.h's default
  int64_t max_bars = 32;       // the longest melody harmonized (StudioLimits::max_bars)
};

// Loads both models once at start to check them (a wrong or missing model stops `serve` before
// it listens) and to describe them in /api/info. Throws std::runtime_error naming the model.
std::unique_ptr<StudioBackend> make_model_backend(const ModelBackendOptions& options);

}  // namespace bachgen::serve
