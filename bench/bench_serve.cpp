// The studio's bounded load test: starts `bachgen serve` on loopback, then for --seconds runs
// generation clients (compose, continue, harmonize, infill; fewer than the pool's capacity)
// beside read clients (health, info, the page, result files), and reports requests/s, p50/p99
// latency and errors per route, and the server's resident memory over the run. Prints one
// Markdown report; exits 1 on any 5xx, failed connection or server death (--check).
// With --compose-bars N the generation clients only compose N bars each request (the studio's
// compose latency; docs/studio.md measures 4 bars with one client and no readers).
// Usage: bench_serve --bachgen PATH [--seconds 60] [--generators 2] [--readers 4] [--reader-pause-ms 50]
//        [--compose-bars N] [--check]
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bachgen/runtime/cpu_features.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct RouteStats {
  std::vector<double> ms;
  std::map<int, int64_t> statuses;  // 0 = no answer (connection failed)
};

class Recorder {
 public:
  void add(const std::string& route, int status, double ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    RouteStats& s = routes_[route];
    s.ms.push_back(ms);
    ++s.statuses[status];
  }
  std::map<std::string, RouteStats> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return routes_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, RouteStats> routes_;
};

// The results the generators made, for the readers and for continue/infill.
class Results {
 public:
  void add(const std::string& id, int64_t bars) {
    std::lock_guard<std::mutex> lock(mutex_);
    ids_.push_back({id, bars});
    if (ids_.size() > 16) ids_.erase(ids_.begin());
  }
  bool pick(std::mt19937& rng, std::pair<std::string, int64_t>* out) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ids_.empty()) return false;
    *out = ids_[std::uniform_int_distribution<size_t>(0, ids_.size() - 1)(rng)];
    return true;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, int64_t>> ids_;
};

long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string bachgen;
  double seconds = 60;
  int generators = 2, readers = 4, reader_pause_ms = 50, compose_bars = 0;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--bachgen" && i + 1 < argc) bachgen = argv[++i];
    else if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
    else if (a == "--generators" && i + 1 < argc) generators = std::stoi(argv[++i]);
    else if (a == "--readers" && i + 1 < argc) readers = std::stoi(argv[++i]);
    else if (a == "--reader-pause-ms" && i + 1 < argc) reader_pause_ms = std::stoi(argv[++i]);
    else if (a == "--compose-bars" && i + 1 < argc) compose_bars = std::stoi(argv[++i]);
    else if (a == "--check") check = true;
    else {
      std::fprintf(stderr, "usage: bench_serve --bachgen PATH [--seconds 60] [--generators 2] [--readers 4] [--reader-pause-ms 50] [--compose-bars N] [--check]\n");
      return 2;
    }
  }
  if (bachgen.empty()) {
    std::fprintf(stderr, "bench_serve: --bachgen PATH is required\n");
    return 2;
  }
  // The server: workers 1, queue 4, a small store so that it fills (and evicts) early.
  int out_pipe[2];
  if (pipe(out_pipe) != 0) return 1;
  const pid_t server = fork();
  if (server == 0) {
    dup2(out_pipe[1], 1);
    close(out_pipe[0]);
    execl(bachgen.c_str(), bachgen.c_str(), "serve", "--port", "0", "--quiet", "--workers", "1", "--queue", "4", "--results", "24",
          static_cast<char*>(nullptr));
    std::perror("exec bachgen");
    _exit(127);
  }
  close(out_pipe[1]);
  std::string banner;
  int port = -1;
  char buffer[512];
  for (ssize_t n; port < 0 && (n = read(out_pipe[0], buffer, sizeof buffer)) > 0;) {
    banner.append(buffer, static_cast<size_t>(n));
    const size_t at = banner.find("http://127.0.0.1:");
    if (at != std::string::npos && banner.find('/', at + 17) != std::string::npos) port = std::stoi(banner.substr(at + 17));
  }
  if (port < 0) {
    std::fprintf(stderr, "bench_serve: the server did not start (%s)\n", banner.c_str());
    return 1;
  }

  Recorder recorder;
  Results results;
  std::atomic<bool> stop{false};
  const auto start = Clock::now();
  const auto timed = [&](httplib::Client& c, const std::string& route, auto request) {
    const auto t0 = Clock::now();
    httplib::Result r = request(c);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    recorder.add(route, r ? r->status : 0, ms);
    return r;
  };
  std::vector<std::thread> threads;
  for (int g = 0; g < generators; ++g) {
    threads.emplace_back([&, g] {
      std::mt19937 rng(1000 + g);
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(120, 0);
      const std::vector<std::string> melodies = {"G4:1 | C5:1.5 D5:0.5 E5 E5 D5:1 | C5:2 r:1 B4:1 | C5:4 |",
                                                 "3/4 D5:1 | G5 F#5 E5 | D5:2 B4:1 | C5 B4 A4 | G4:3 |",
                                                 "E5:2 D5:2 | C5:1 D5 E5 C5 | D5:4 |"};
      for (int k = 0; !stop; ++k) {
        const int seed = std::uniform_int_distribution<int>(1, 1000000)(rng);
        std::pair<std::string, int64_t> previous;
        const bool have = results.pick(rng, &previous);
        std::optional<httplib::Result> r;
        std::string route;
        switch (compose_bars > 0 ? 0 : k % 4) {
          case 0:
            route = compose_bars > 0 ? "POST /api/compose (" + std::to_string(compose_bars) + " bars)" : "POST /api/compose";
            r = timed(c, route, [&](httplib::Client& cl) {
              return cl.Post("/api/compose", json({{"bars", compose_bars > 0 ? compose_bars : 2 + seed % 3}, {"seed", seed}}).dump(), "application/json");
            });
            break;
          case 1:
            route = "POST /api/harmonize";
            r = timed(c, route, [&](httplib::Client& cl) {
              return cl.Post("/api/harmonize", json({{"notes", melodies[static_cast<size_t>(seed) % melodies.size()]}, {"seed", seed}}).dump(),
                             "application/json");
            });
            break;
          case 2:
            if (!have) continue;
            route = "POST /api/infill";
            r = timed(c, route, [&](httplib::Client& cl) {
              return cl.Post("/api/infill", json({{"result", previous.first}, {"bars", {1, std::min<int64_t>(2, previous.second)}}, {"voices", "AT"}, {"seed", seed}}).dump(),
                             "application/json");
            });
            break;
          default:
            if (!have) continue;
            route = "POST /api/compose (continue)";
            r = timed(c, route, [&](httplib::Client& cl) {
              return cl.Post("/api/compose", json({{"bars", previous.second + 1}, {"seed", seed}, {"primer", {{"result", previous.first}}}, {"primer_steps", 16}}).dump(),
                             "application/json");
            });
        }
        if (r && *r && (*r)->status == 200) {
          const json answer = json::parse((*r)->body);
          results.add(answer["id"], answer["bars"]);
        }
      }
    });
  }
  for (int q = 0; q < readers; ++q) {
    threads.emplace_back([&, q] {
      std::mt19937 rng(2000 + q);
      httplib::Client c("127.0.0.1", port);
      const std::vector<std::string> pages = {"/health", "/api/info", "/", "/app.js"};
      for (int k = 0; !stop; ++k) {
        std::pair<std::string, int64_t> previous;
        if (k % 2 == 1 && results.pick(rng, &previous)) {
          static const char* kinds[] = {"json", "mid", "musicxml", "wav"};
          const std::string kind = kinds[k / 2 % 4];
          // A result may have been evicted meanwhile: 404 is a right answer then.
          timed(c, "GET /api/results/ID." + kind, [&](httplib::Client& cl) { return cl.Get(("/api/results/" + previous.first + "." + kind).c_str()); });
        } else {
          const std::string& page = pages[static_cast<size_t>(k / 2) % pages.size()];
          timed(c, "GET " + page, [&](httplib::Client& cl) { return cl.Get(page.c_str()); });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(reader_pause_ms));
      }
    });
  }
  // Memory every second; the server must stay alive.
  std::vector<std::pair<double, long>> memory;
  bool died = false;
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    int status = 0;
    if (waitpid(server, &status, WNOHANG) == server) {
      died = true;
      break;
    }
    memory.push_back({std::chrono::duration<double>(Clock::now() - start).count(), rss_kib(server)});
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (!died) {
    kill(server, SIGTERM);
    int status = 0;
    waitpid(server, &status, 0);
    died = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  const std::map<std::string, RouteStats> routes = recorder.take();
  std::printf("### Studio load test: %.0f s on loopback, %d generation clients + %d read clients (%d ms between reads)\n\n", elapsed,
              generators, readers, reader_pause_ms);
  const bachgen::runtime::CpuInfo cpu = bachgen::runtime::detect_cpu();
  std::printf("CPU: %s (%d cores; %s); server: bachgen serve --workers 1 --queue 4 --results 24 (bundled models)\n\n",
              cpu.model_name.c_str(), cpu.logical_cores, cpu.feature_list().c_str());
  std::printf("| route | requests | req/s | p50 ms | p99 ms | statuses |\n|---|---:|---:|---:|---:|---|\n");
  int64_t total = 0, server_errors = 0, failed = 0;
  for (const auto& [route, s] : routes) {
    std::string statuses;
    for (const auto& [status, n] : s.statuses) {
      statuses += (statuses.empty() ? "" : ", ") + (status == 0 ? std::string("no answer") : std::to_string(status)) + ": " + std::to_string(n);
      if (status >= 500) server_errors += n;
      if (status == 0) failed += n;
    }
    total += static_cast<int64_t>(s.ms.size());
    std::printf("| %s | %zu | %.1f | %.1f | %.1f | %s |\n", route.c_str(), s.ms.size(), static_cast<double>(s.ms.size()) / elapsed,
                percentile(s.ms, 0.5), percentile(s.ms, 0.99), statuses.c_str());
  }
  std::printf("\nAll: %lld requests, %.1f req/s; 5xx: %lld; no answer: %lld; server %s\n", static_cast<long long>(total),
              static_cast<double>(total) / elapsed, static_cast<long long>(server_errors), static_cast<long long>(failed),
              died ? "DIED or exited badly" : "alive, stopped cleanly by SIGTERM");
  if (!memory.empty()) {
    std::printf("Server memory (VmRSS, MiB) over time:");
    const size_t stride = std::max<size_t>(1, memory.size() / 6);
    for (size_t i = 0; i < memory.size(); i += stride) std::printf(" %.0fs %.0f,", memory[i].first, memory[i].second / 1024.0);
    std::printf(" end %.0f\n", memory.back().second / 1024.0);
    // Flat: the last third's peak within 15 % of the middle third's.
    const size_t third = memory.size() / 3;
    long middle = 0, last = 0;
    for (size_t i = third; i < 2 * third; ++i) middle = std::max(middle, memory[i].second);
    for (size_t i = 2 * third; i < memory.size(); ++i) last = std::max(last, memory[i].second);
    if (third > 0) std::printf("Memory: peak of the last third %.0f MiB against %.0f MiB in the middle third (%+.1f %%)\n", last / 1024.0, middle / 1024.0,
                               100.0 * (static_cast<double>(last) / static_cast<double>(middle) - 1));
  }
  if (check && (server_errors > 0 || failed > 0 || died || total == 0)) {
    std::fprintf(stderr, "bench_serve --check: FAILED (5xx %lld, no answer %lld, server %s)\n", static_cast<long long>(server_errors),
                 static_cast<long long>(failed), died ? "died" : "alive");
    return 1;
  }
  return 0;
}
