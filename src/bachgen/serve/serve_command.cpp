// `bachgen serve`.
#include "bachgen/serve/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

namespace bachgen::serve {

int run_serve(ServeSettings settings) {
  settings.server.store_bytes = settings.store_megabytes << 20;
  settings.backend.max_bars = settings.server.limits.max_bars;
  std::unique_ptr<StudioBackend> backend = make_model_backend(settings.backend);
  // Signals go to one waiting thread, which stops the server from outside any handler; every
  // other thread (the server's and the pool's, started below) inherits the blocked mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  StudioServer server(*backend, settings.server);
  const int port = server.bind();
  std::thread waiter([&server, &stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    server.stop();
  });
  std::printf("bachgen studio: http://%s:%d/ (workers %d, queue %d, results kept %zu / %zu MiB; Ctrl-C stops)\n",
              settings.server.host.c_str(), port, settings.server.workers, settings.server.queue, settings.server.store_count,
              settings.store_megabytes);
  std::fflush(stdout);
  server.run();
  pthread_kill(waiter.native_handle(), SIGTERM);  // wakes the waiter when the server stopped by itself
  waiter.join();
  std::printf("bachgen studio: stopped\n");
  return 0;
}

}  // namespace bachgen::serve
