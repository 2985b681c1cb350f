// The torchrun environment and the local launcher.
#include "bachgen/train/distributed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace bachgen::train {

namespace {

// The launcher passes Ctrl-C and SIGTERM on to its workers, which stop together after the
// current step (the trainer agrees on stopping every step) and let rank 0 write the checkpoint.
std::vector<pid_t> g_worker_pids;
extern "C" void forward_stop_signal(int signal_number) {
  for (pid_t pid : g_worker_pids) kill(pid, signal_number);
}

int env_int(const char* name, int fallback, int lowest, int highest) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < lowest || value > highest) {
    throw std::runtime_error(std::string("environment variable ") + name + "='" + text + "': must be a whole number from " +
                             std::to_string(lowest) + " to " + std::to_string(highest));
  }
  return static_cast<int>(value);
}

}  // namespace

DistEnv dist_env_from_environment() {
  DistEnv e;
  e.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  if (e.world_size == 1) return e;
  if (std::getenv("RANK") == nullptr) throw std::runtime_error("WORLD_SIZE is set but RANK is not (torchrun's convention needs both)");
  e.rank = env_int("RANK", 0, 0, e.world_size - 1);
  e.local_rank = env_int("LOCAL_RANK", e.rank, 0, 1 << 20);
  const char* addr = std::getenv("MASTER_ADDR");
  if (addr != nullptr && *addr != '\0') e.master_addr = addr;
  e.master_port = env_int("MASTER_PORT", e.master_port, 1, 65535);
  return e;
}

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("cannot open a socket to find a free port");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free TCP port on 127.0.0.1");
  }
  close(fd);
  return ntohs(address.sin_port);
}

int launch_local_workers(const std::vector<std::string>& argv, int nproc, int grace_seconds) {
  if (nproc < 1) throw std::runtime_error("--nproc must be at least 1");
  const std::string port = std::to_string(free_local_port());
  struct Worker {
    pid_t pid = -1;
    int out = -1;  // the read end of its stdout + stderr
    std::string pending;
    bool done = false;
    int status = 0;
  };
  std::vector<Worker> workers(static_cast<size_t>(nproc));
  for (int r = 0; r < nproc; ++r) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("cannot make a pipe for a worker's output");
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("cannot start worker " + std::to_string(r));
    if (pid == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      setenv("RANK", std::to_string(r).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", port.c_str(), 1);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv("/proc/self/exe", args.data());
      std::perror("exec");
      _exit(127);
    }
    close(fds[1]);
    workers[static_cast<size_t>(r)].pid = pid;
    workers[static_cast<size_t>(r)].out = fds[0];
  }
  g_worker_pids.clear();
  for (const Worker& w : workers) g_worker_pids.push_back(w.pid);
  struct sigaction forward = {};
  forward.sa_handler = forward_stop_signal;
  sigemptyset(&forward.sa_mask);
  forward.sa_flags = SA_RESTART;
  sigaction(SIGINT, &forward, nullptr);
  sigaction(SIGTERM, &forward, nullptr);
  // Relay output line by line, and watch for exits.
  const auto relay = [](Worker& w, int rank, bool flush_all) {
    size_t newline;
    while ((newline = w.pending.find_first_of("\n\r")) != std::string::npos) {
      const std::string line = w.pending.substr(0, newline);
      w.pending.erase(0, newline + 1);
      if (!line.empty()) std::fprintf(stderr, "[rank %d] %s\n", rank, line.c_str());
    }
    if (flush_all && !w.pending.empty()) {
      std::fprintf(stderr, "[rank %d] %s\n", rank, w.pending.c_str());
      w.pending.clear();
    }
  };
  int failed_rank = -1;
  std::string failure;
  auto kill_deadline = std::chrono::steady_clock::time_point::max();
  bool killed = false;
  size_t running = workers.size();
  while (running > 0) {
    std::vector<pollfd> fds;
    for (const Worker& w : workers) fds.push_back({w.out, POLLIN, 0});
    poll(fds.data(), fds.size(), 200);
    for (size_t r = 0; r < workers.size(); ++r) {
      Worker& w = workers[r];
      if (w.out >= 0 && (fds[r].revents & (POLLIN | POLLHUP)) != 0) {
        char buffer[4096];
        const ssize_t n = read(w.out, buffer, sizeof buffer);
        if (n > 0) {
          w.pending.append(buffer, static_cast<size_t>(n));
          relay(w, static_cast<int>(r), false);
        } else {
          relay(w, static_cast<int>(r), true);
          close(w.out);
          w.out = -1;
        }
      }
      if (!w.done && waitpid(w.pid, &w.status, WNOHANG) == w.pid) {
        w.done = true;
        --running;
        const bool ok = WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0;
        if (!ok && failed_rank < 0) {
          failed_rank = static_cast<int>(r);
          failure = WIFSIGNALED(w.status) ? "was killed by signal " + std::to_string(WTERMSIG(w.status)) + " (" + strsignal(WTERMSIG(w.status)) + ")"
                                          : "exited with status " + std::to_string(WEXITSTATUS(w.status));
          for (Worker& other : workers) {
            if (!other.done) kill(other.pid, SIGTERM);
          }
          kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_seconds);
        }
      }
    }
    if (!killed && std::chrono::steady_clock::now() > kill_deadline) {
      for (Worker& other : workers) {
        if (!other.done) kill(other.pid, SIGKILL);
      }
      killed = true;
    }
  }
  for (Worker& w : workers) {
    if (w.out >= 0) {
      relay(w, 0, true);
      close(w.out);
    }
  }
  if (failed_rank >= 0) {
    std::fprintf(stderr, "bachgen: rank %d of %d %s; the other workers were stopped\n", failed_rank, nproc, failure.c_str());
    return 1;
  }
  return 0;
}

}  // namespace bachgen::train
