// `bachgen serve`.
#include "bachgen/commands/serve_command.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace bachgen::commands {

using namespace serve;

namespace {

// SIGINT and SIGTERM write a byte here (the only thing a handler may safely do, whichever of
// the process's threads it runs on); a watcher thread reads it and stops the server.
int g_stop_pipe[2] = {-1, -1};

void on_stop_signal(int) {
  const char byte = 1;
  [[maybe_unused]] const ssize_t ignored = write(g_stop_pipe[1], &byte, 1);
}

// Studios before this one ran each job in a temp folder /tmp/bachgen-serve-*; one killed
// (kill -9, a crash) left its folder behind. The studio writes no files now: sweep those not
// touched for an hour (an older studio still running keeps its folder fresh while it works).
void sweep_old_temp_folders() {
  namespace fs = std::filesystem;
  std::error_code ignored;
  const auto stale = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (const auto& entry : fs::directory_iterator("/tmp", ignored)) {
    if (entry.path().filename().string().rfind("bachgen-serve-", 0) != 0) continue;
    const auto touched = fs::last_write_time(entry.path(), ignored);
    if (!ignored && touched < stale) fs::remove_all(entry.path(), ignored);
  }
}

}  // namespace

int run_serve(ServeSettings settings) {
  // The stop signals first: a SIGTERM while the models load (a second or so) is kept in the
  // pipe and stops the server as soon as it is made, with exit status 0.
  if (pipe(g_stop_pipe) != 0) throw std::runtime_error("cannot make a pipe for the stop signals");
  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A server never dies of a closed pipe: neither of a client gone mid-answer nor of its own
  // stdout closed (`bachgen serve | head -1`); the write fails and that is all.
  signal(SIGPIPE, SIG_IGN);
  settings.server.store_bytes = settings.store_megabytes << 20;
  settings.backend.max_bars = settings.server.limits.max_bars;
  settings.backend.workers = settings.server.workers;
  if (settings.server.score_library.empty()) settings.server.score_library = serve::find_score_library();
  sweep_old_temp_folders();
  std::unique_ptr<StudioBackend> backend = make_model_backend(settings.backend);
  StudioServer server(*backend, settings.server);
  const int port = server.bind();
  std::thread watcher([&server] {
    char byte = 0;
    while (read(g_stop_pipe[0], &byte, 1) < 0) {
    }
    server.stop();  // also before run() has begun: then run() returns at once
  });
  std::printf("bachgen studio: http://%s:%d/ (workers %d, queue %d, results kept %zu / %zu MiB; Ctrl-C stops)\n",
              settings.server.host.c_str(), port, settings.server.workers, settings.server.queue, settings.server.store_count,
              settings.store_megabytes);
  std::fflush(stdout);
  server.run();
  on_stop_signal(0);  // wakes the watcher when the server stopped by itself
  watcher.join();
  std::printf("bachgen studio: stopped\n");
  return 0;
}

}  // namespace bachgen::commands
