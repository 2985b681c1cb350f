// `bachgen serve`: the studio's HTTP server (GNU libmicrohttpd, event-driven). It serves the page
// (web/, embedded at build time) and the JSON API, checks every request (studio_api.h), runs
// generations on a bounded worker pool (503 + Retry-After when full) with a time limit each, and
// keeps results in a bounded in-memory store. No connection has a thread of its own: a few
// threads poll every socket, so slow clients hold a connection slot, never a thread. What generates is a StudioBackend, so the server is tested with
// a stand-in and runs with the real models (serve/studio_backend.h). Torch-free;
// docs/studio.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bachgen/serve/result_store.h"
#include "bachgen/serve/studio_api.h"

namespace bachgen::serve {

struct GenerationOutput {
  std::map<std::string, std::string> files;  // mid, musicxml, wav: the bytes
  std::string notes_json;                    // notes_json() of the result
  int64_t bars = 0;
  int steps_per_bar = 16;
  double seconds = 0;                        // the generation alone
  std::string details_json = "{}";           // what else the answer reports (a JSON object)
  std::shared_ptr<const music::Chorale> chorale;  // kept with the result (continue, infill)
};

// Throws RequestError for a problem with the input (400), generate::TimeLimitExceeded when the
// time limit passes (503), anything else for a server fault (500). `worker` is the index of the
// pool's thread, so a backend can keep per-worker state without locks.
class StudioBackend {
 public:
  virtual ~StudioBackend() = default;
  virtual std::string info_json() const = 0;  // a JSON object: the models, the vocabulary
  virtual GenerationOutput compose(const ComposeRequest& request, const StoredResult* primer, int worker, double time_limit) = 0;
  virtual GenerationOutput harmonize(const HarmonizeRequest& request, int worker, double time_limit) = 0;
  virtual GenerationOutput infill(const InfillRequest& request, const StoredResult& source, int worker, double time_limit) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 8080;                 // 0 = any free port (bind() returns it)
  int workers = 1;                 // generations at once
  int queue = 4;                   // generations waiting; beyond that 503
  size_t store_count = 100;        // results kept ...
  size_t store_bytes = 256u << 20; // ... and their bytes; the oldest go first
  int http_threads = 2;            // threads that read requests and write answers, each for any
                                   // number of connections (generations run on the workers)
  int max_connections = 256;       // open connections at once; beyond that new ones are closed
  int idle_timeout_seconds = 30;   // a connection silent this long is closed
  bool log_requests = true;        // one line per request on stderr
  // Host names the Host header may name besides localhost, 127.0.0.1, [::1] and `host` (with
  // or without the port): a studio served to other machines names its own (--allowed-host).
  std::vector<std::string> allowed_hosts;
  StudioLimits limits;
  // The score library the page draws scores with (OpenSheetMusicDisplay's browser bundle,
  // installed by `npm ci` in web/), served as /vendor/opensheetmusicdisplay.min.js; read once
  // when the server is made. Empty or absent: the page shows the piano roll only, and says why.
  std::string score_library;
};

// Where the score library is: RESOURCES/web/vendor/opensheetmusicdisplay.min.js (an installed
// tree) or RESOURCES/web/node_modules/opensheetmusicdisplay/build/ (the source tree after npm ci);
// empty when neither is there.
std::string find_score_library();

class StudioServer {
 public:
  StudioServer(StudioBackend& backend, const ServerOptions& options);
  ~StudioServer();
  StudioServer(const StudioServer&) = delete;
  StudioServer& operator=(const StudioServer&) = delete;

  // Binds the socket; returns the port. Throws std::runtime_error when it cannot.
  int bind();
  // Serves until stop() (from another thread or a signal handler's thread).
  void run();
  // Returns once run() has returned or will return at once; safe at any moment, also before
  // run() and right after bind(). It waits for the requests being answered (a generation up to
  // its time limit), so it must not be called from a request's own thread.
  void stop();

  const ResultStore& store() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The page's files, embedded from web/ at build time (serve/web_assets.cpp is generated).
struct WebAsset {
  const char* path;          // "/index.html"
  const char* content_type;
  const unsigned char* data;
  size_t size;
};
const WebAsset* web_assets(size_t* count);

}  // namespace bachgen::serve
