// The studio server against hostile requests (issue: "no request can crash it"): invalid UTF-8
// in bodies and paths, deep nesting, NUL bytes, wrong content types and Host headers, chunked
// bodies, duplicate Content-Length, a few hundred generated mutations of valid bodies; each
// answered 4xx (never 5xx), and /health answers after each. Slow clients beside /health, silent
// connections closed. Also stop() right after bind(), 200 times. Over a stand-in backend, so it runs under the sanitizers too.
#include "bachgen/serve/studio_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "bachgen/io/utf8.h"
#include "bachgen/io/zip_archive.h"
#include "bachgen/serve/studio_api.h"
#include "hostile_requests.h"

namespace bachgen::serve {
namespace {

using namespace bachgen::testing;
using io::utf8_sequence_length;
using io::valid_utf8;
using nlohmann::json;

class EchoBackend : public StudioBackend {
 public:
  std::string info_json() const override { return R"({"models":{},"vocab":"satb16"})"; }
  GenerationOutput compose(const ComposeRequest& r, const StoredResult*, int, double) override { return answer(r.bars); }
  GenerationOutput harmonize(const HarmonizeRequest&, int, double) override { return answer(2); }
  GenerationOutput infill(const InfillRequest&, const StoredResult& source, int, double) override { return answer(source.bars); }
  static GenerationOutput answer(int64_t bars) {
    GenerationOutput out;
    out.files = {{"mid", std::string("MThd\0\0\0\6", 8)}, {"musicxml", "<score-partwise/>"}};
    out.notes_json = R"({"notes":[]})";
    out.bars = bars;
    return out;
  }
};

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.port = 0;
    o.log_requests = false;
    o.allowed_hosts = {"studio.example"};
    server = std::make_unique<StudioServer>(backend, o);
    port = server->bind();
    thread = std::thread([this] { server->run(); });
  }
  void TearDown() override {
    server->stop();
    thread.join();
  }
  void expect_alive() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(5, 0);
    const auto r = c.Get("/health");
    ASSERT_TRUE(r) << "the server stopped answering";
    EXPECT_EQ(r->status, 200);
  }
  // The answer is `status` (0: any 4xx) with a JSON body that parses (the error is valid UTF-8).
  void expect_refused(const std::string& request, int status, const std::string& what) {
    std::string answer;
    const int got = raw_status(port, request, &answer);
    if (status == 0) {
      EXPECT_TRUE(got >= 400 && got < 500) << what << "\n" << answer.substr(0, 300);
    } else {
      EXPECT_EQ(got, status) << what << "\n" << answer.substr(0, 300);
    }
    const size_t body = answer.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos) << what;
    json parsed;
    EXPECT_NO_THROW(parsed = json::parse(answer.substr(body + 4))) << what;
    expect_alive();
  }

  EchoBackend backend;
  std::unique_ptr<StudioServer> server;
  std::thread thread;
  int port = 0;
};

TEST_F(HostileTest, InvalidUtf8InBodiesAndPaths) {
  for (const char* route : {"/api/compose", "/api/harmonize", "/api/infill"}) {
    expect_refused(post_text(port, route, "{\"bars\":1,\"key\":\"C\xFF\"}"), 400, route);
    expect_refused(post_text(port, route, "{\"notes\":\"\xC3\"}"), 400, route);  // cut off
    expect_refused(post_text(port, route, "{\"notes\":\"\xED\xA0\x80\"}"), 400, route);  // a surrogate
  }
  const std::string host = "Host: 127.0.0.1:" + std::to_string(port) + "\r\nConnection: close\r\n\r\n";
  expect_refused("GET /%FF HTTP/1.1\r\n" + host, 404, "GET /%FF");
  expect_refused("GET /api/results/..%c0%af..%c0%afetc/passwd HTTP/1.1\r\n" + host, 404, "traversal");
  expect_refused("GET /\xFF\xFE HTTP/1.1\r\n" + host, 0, "raw bytes in the path");
}

TEST_F(HostileTest, DeepNestingNulAndHugeNumbers) {
  expect_refused(post_text(port, "/api/compose", "{\"primer\":" + std::string(500000, '[') + std::string(500000, ']') + "}"), 400,
                 "500,000 brackets");
  std::string deep = "{\"melody\":";
  for (int i = 0; i < 100000; ++i) deep += "{\"a\":";
  deep += "1" + std::string(100000, '}') + "}";
  expect_refused(post_text(port, "/api/harmonize", deep), 400, "100,000 objects");
  expect_refused(post_text(port, "/api/compose", std::string("{\"bars\":2}\0", 11)), 400, "a trailing NUL");
  expect_refused(post_text(port, "/api/compose", "{\"bars\":1e400}"), 400, "1e400");
  expect_refused(post_text(port, "/api/compose", "{\"bars\":99999999999999999999999}"), 400, "a huge integer");
  EXPECT_EQ(raw_status(port, post_text(port, "/api/compose", "{\"bars\":2}")), 200);  // still serving
}

TEST_F(HostileTest, ContentTypesHostsAndFraming) {
  expect_refused(post_text(port, "/api/compose", "{\"bars\":2}", "text/plain"), 415, "text/plain");
  expect_refused(post_text(port, "/api/compose", "{\"bars\":2}", "application/x-www-form-urlencoded"), 415, "a form");
  EXPECT_EQ(raw_status(port, post_text(port, "/api/compose", "{\"bars\":2}", "application/json; charset=utf-8")), 200);
  const std::string get = "GET /health HTTP/1.1\r\nConnection: close\r\n";
  expect_refused(get + "Host: evil.example\r\n\r\n", 403, "a foreign Host");
  EXPECT_EQ(raw_status(port, get + "Host: 127.0.0.1:9000\r\n\r\n"), 200);  // a tunnel's port: the name decides
  expect_refused(get + "\r\n", 403, "no Host");
  expect_refused(get + "Host: localhost\r\nHost: evil.example\r\n\r\n", 403, "two Hosts");
  EXPECT_EQ(raw_status(port, get + "Host: localhost:" + std::to_string(port) + "\r\n\r\n"), 200);
  EXPECT_EQ(raw_status(port, get + "Host: [::1]\r\n\r\n"), 200);
  EXPECT_EQ(raw_status(port, get + "Host: STUDIO.example:" + std::to_string(port) + "\r\n\r\n"), 200);  // --allowed-host
  const std::string head = "POST /api/compose HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                           "\r\nContent-Type: application/json\r\nConnection: close\r\n";
  expect_refused(head + "Transfer-Encoding: chunked\r\n\r\n" + "a\r\n{\"bars\":2}\r\n0\r\n\r\n", 411, "chunked");
  expect_refused(head + "Content-Length: 10\r\nContent-Length: 2\r\n\r\n{\"bars\":2}", 400, "two Content-Lengths");
}

// All that comes back on one connection for `request`, until the server closes it.
std::string everything_answered(int port, const std::string& request) {
  const int fd = connect_loopback(port, 5);
  if (fd < 0) return "";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string got;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) got.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return got;
}

size_t answers_in(const std::string& text) {
  size_t n = 0;
  for (size_t at = text.find("HTTP/1.1 "); at != std::string::npos; at = text.find("HTTP/1.1 ", at + 1)) ++n;
  return n;
}

TEST_F(HostileTest, ARefusedRequestsBodyIsNeverReadAsTheNextRequest) {
  // A cross-site form can send text/plain whose body is a whole JSON request: refused (415),
  // and the connection closes, so the request inside never runs.
  const std::string inner = "POST /api/compose HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"bars\":2}";
  const std::string outer = "POST /api/compose HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: " +
                            std::to_string(inner.size()) + "\r\n\r\n" + inner;
  const std::string got = everything_answered(port, outer);
  EXPECT_EQ(answers_in(got), 1u) << got;
  EXPECT_EQ(got.rfind("HTTP/1.1 415", 0), 0u) << got;
  // Chunked: the chunks are never parsed as requests either.
  const std::string chunked = "POST /api/compose HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + inner;
  const std::string got_chunked = everything_answered(port, chunked);
  EXPECT_EQ(answers_in(got_chunked), 1u) << got_chunked;
  // A request that is fine gets its answer and the connection closes after it.
  EXPECT_EQ(answers_in(everything_answered(port, inner + inner)), 1u);
  expect_alive();
}

TEST_F(HostileTest, TheWholeSuiteIsAnswered4xxNever5xx) {
  // tests/hostile_requests.h: the issue's cases, invalid UTF-8 in every field of every route,
  // damaged uploads (the stand-in does not read them: tests/test_serve_hostile.cpp sends the
  // same against the bundled models) and 400 generated mutations.
  std::string made;
  ASSERT_EQ(raw_status(port, post_text(port, "/api/compose", "{\"bars\":2}"), &made), 200);
  const std::string id = json::parse(made.substr(made.find("\r\n\r\n") + 4))["id"];
  const char midi[] = "MThd\0\0\0\6\0\1\0\1\1\xE0MTrk\0\0\0\4\0\xFF\x2F\0";
  const std::string xml = "<score-partwise><part-list/></score-partwise>";
  const std::vector<uint8_t> zip = io::make_zip({{"a.musicxml", std::vector<uint8_t>(xml.begin(), xml.end())}}, true);
  const std::vector<HostileCase> cases =
      hostile_cases(port, id, {{"a.mid", std::string(midi, 26)}, {"a.musicxml", xml}, {"a.mxl", std::string(zip.begin(), zip.end())}}, 400, 20261201);
  EXPECT_GT(cases.size(), 500u);
  run_hostile_cases(port, cases, 25, 10);
}

TEST_F(HostileTest, SlowClientsHoldNoThreadOfTheServer) {
  // Issue 16, item 6: one header line every few seconds from each of 16 sockets stopped all
  // service (a thread per connection). Here 32 sockets trickle headers that never end and 16
  // trickle a body that never completes; /health and a generation still answer at once.
  std::vector<int> slow;
  for (int i = 0; i < 48; ++i) {
    const int fd = connect_loopback(port, 5);
    ASSERT_GE(fd, 0);
    const std::string head = i < 32 ? "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                     : "POST /api/compose HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                       "Content-Length: 100000\r\n\r\n{\"bars\":";
    ASSERT_TRUE(send_all(fd, head));
    slow.push_back(fd);
  }
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    for (int round = 0; !done; ++round) {
      for (size_t i = 0; i < slow.size(); ++i) send_all(slow[i], i < 32 ? "X-Slow-" + std::to_string(round) + ": y\r\n" : " ");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  for (int k = 0; k < 10; ++k) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(1, 0);  // answered within a second, or the test fails
    const auto health = c.Get("/health");
    EXPECT_TRUE(health && health->status == 200) << "no answer within 1 s beside 48 slow clients (try " << k << ")";
    if (!health) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(raw_status(port, post_text(port, "/api/compose", "{\"bars\":2}")), 200);
  done = true;
  trickle.join();
  for (int fd : slow) ::close(fd);
  expect_alive();
}

TEST(StudioServerIdle, ASilentConnectionIsClosed) {
  EchoBackend backend;
  ServerOptions o;
  o.port = 0;
  o.log_requests = false;
  o.idle_timeout_seconds = 1;
  o.max_connections = 4;
  StudioServer server(backend, o);
  const int port = server.bind();
  std::thread runner([&server] { server.run(); });
  // Four half-sent requests take every slot; after a second of silence each is closed (the
  // read sees the end), and the studio answers again.
  std::vector<int> silent;
  for (int i = 0; i < 4; ++i) {
    silent.push_back(connect_loopback(port, 10));
    ASSERT_GE(silent.back(), 0);
    ASSERT_TRUE(send_all(silent.back(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  }
  for (int fd : silent) {
    char byte = 0;
    EXPECT_LE(::recv(fd, &byte, 1, 0), 0) << "the server kept a silent connection for 10 s";
    ::close(fd);
  }
  EXPECT_EQ(raw_status(port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), 200);
  server.stop();
  runner.join();
}

TEST(StudioServerStop, StopRightAfterBindNeverHangs) {
  EchoBackend backend;
  for (int i = 0; i < 200; ++i) {
    ServerOptions o;
    o.port = 0;
    o.log_requests = false;
    StudioServer server(backend, o);
    server.bind();
    std::thread runner([&server] { server.run(); });
    if (i % 2 == 0) std::this_thread::yield();
    server.stop();  // before, during or after run() has begun listening
    runner.join();
  }
}

TEST(Utf8, SequencesAndReplacement) {
  EXPECT_EQ(utf8_sequence_length("a", 0), 1u);
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9", 0), 2u);          // é
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98\x80", 0), 4u);  // 😀
  EXPECT_EQ(utf8_sequence_length("\xC3", 0), 0u);              // cut off
  EXPECT_EQ(utf8_sequence_length("\xC0\xAF", 0), 0u);          // overlong '/'
  EXPECT_EQ(utf8_sequence_length("\xED\xA0\x80", 0), 0u);      // a surrogate
  EXPECT_EQ(utf8_sequence_length("\xF4\x90\x80\x80", 0), 0u);  // past U+10FFFF
  EXPECT_EQ(utf8_sequence_length("\x80", 0), 0u);
  EXPECT_EQ(valid_utf8("C\xFF" "4"), "C\xEF\xBF\xBD" "4");
  EXPECT_EQ(valid_utf8("\xC3\xA9"), "\xC3\xA9");
}

}  // namespace
}  // namespace bachgen::serve
