// The hostile-request suite of tests/hostile_requests.h against `bachgen serve` itself, with the
// bundled models, on loopback (issue 16): every malformed request answered 4xx, a request that
// turns out valid 200 (or 503 at the time limit), never another 5xx, /health after every few,
// and the server still exits 0 on SIGTERM at the end. Damaged uploads are copies of files the
// studio wrote itself, truncated and bit-flipped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "bachgen/io/zip_archive.h"
#include "hostile_requests.h"

namespace bachgen::testing {
namespace {

using nlohmann::json;

// `bachgen serve` on a free port; stopped (SIGTERM) by the destructor.
class Studio {
 public:
  Studio() {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      execl(BACHGEN_CLI, BACHGEN_CLI, "serve", "--port", "0", "--quiet", "--audio", "none", "--max-bars", "8", "--time-limit", "20",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string banner;
    char buffer[256];
    const std::string marker = "bachgen studio: http://127.0.0.1:";
    for (ssize_t n; banner.find('\n', banner.find(marker) == std::string::npos ? banner.size() : banner.find(marker)) == std::string::npos &&
                    (n = read(out[0], buffer, sizeof buffer)) > 0;) {
      banner.append(buffer, static_cast<size_t>(n));
    }
    close(out[0]);
    const size_t at = banner.find(marker);
    if (at != std::string::npos) port_ = std::stoi(banner.substr(at + marker.size()));
  }
  ~Studio() {
    if (pid_ > 0 && !stopped_) stop();
  }
  int port() const { return port_; }
  // SIGTERM; the exit status (-1: still running after 10 s, then killed).
  int stop() {
    stopped_ = true;
    kill(pid_, SIGTERM);
    int status = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool stopped_ = false;
};

std::string body_of(const std::string& answer) { return answer.substr(answer.find("\r\n\r\n") + 4); }

TEST(ServeHostile, TheWholeSuiteAgainstTheBundledModels) {
  Studio studio;
  const int port = studio.port();
  ASSERT_GT(port, 0) << "bachgen serve did not say where it listens";
  std::string answer;
  ASSERT_EQ(raw_status(port, post_text(port, "/api/harmonize", R"({"notes":"C5:1 D5 E5 F5 | G5:2 E5:2 | F5:1 D5 E5 C5 | D5:4 |","seed":3})"), &answer, 60), 200)
      << answer;
  const json made = json::parse(body_of(answer));
  const std::string id = made["id"];
  ASSERT_EQ(raw_status(port, get_text(port, made["files"]["mid"]), &answer), 200);
  const std::string mid = body_of(answer);
  ASSERT_EQ(raw_status(port, get_text(port, made["files"]["musicxml"]), &answer), 200);
  const std::string xml = body_of(answer);
  const std::vector<uint8_t> zip = io::make_zip({{"score.musicxml", std::vector<uint8_t>(xml.begin(), xml.end())}}, true);
  const std::vector<HostileCase> cases =
      hostile_cases(port, id, {{"tune.mid", mid}, {"tune.musicxml", xml}, {"tune.mxl", std::string(zip.begin(), zip.end())}}, 300, 20261202);
  EXPECT_GT(cases.size(), 400u);
  run_hostile_cases(port, cases, 10, 60);
  EXPECT_EQ(studio.stop(), 0) << "bachgen serve did not exit 0 on SIGTERM after the suite";
}

}  // namespace
}  // namespace bachgen::testing
