// `bachgen serve`: the studio (studio_server.h over studio_backend.h) until Ctrl-C or SIGTERM.
// Torch-free header; docs/studio.md.
#pragma once

#include <string>

#include "bachgen/serve/studio_backend.h"
#include "bachgen/serve/studio_server.h"

namespace bachgen::commands {


struct ServeSettings {
  serve::ServerOptions server;
  serve::ModelBackendOptions backend;
  size_t store_megabytes = 256;  // the result store's byte limit, in MiB
};

// Prints "bachgen studio: http://HOST:PORT/" once it listens (stdout, flushed); returns the
// exit code. Throws std::runtime_error for a model that does not load or a port in use.
int run_serve(ServeSettings settings);

}  // namespace bachgen::commands
