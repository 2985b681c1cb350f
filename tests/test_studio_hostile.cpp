// The studio server against hostile requests (issue: "no request can crash it"): invalid UTF-8
// in bodies and paths, deep nesting, NUL bytes, wrong content types and Host headers, chunked
// bodies, duplicate Content-Length, a few hundred generated mutations of valid bodies; each
// answered 4xx (never 5xx), and /health answers after each. Also stop() right after bind(),
// 200 times. Over a stand-in backend, so it runs under the sanitizers too.
#include "bachgen/serve/studio_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "bachgen/io/utf8.h"
#include "bachgen/serve/studio_api.h"

namespace bachgen::serve {
namespace {

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

// A connected loopback socket whose reads give up after `seconds`, or -1.
int connect_loopback(int port, int seconds) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One request as raw bytes on a fresh connection; the status of the answer (0: none).
int raw_status(int port, const std::string& request, std::string* answer = nullptr) {
  const int fd = connect_loopback(port, 10);
  if (fd < 0) return 0;
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string got;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
    got.append(buffer, static_cast<size_t>(n));
    if (got.find("\r\n\r\n") != std::string::npos) {
      const size_t at = got.find("Content-Length: ");
      const size_t end = got.find("\r\n\r\n") + 4;
      if (at != std::string::npos && got.size() >= end + std::stoul(got.substr(at + 16))) break;
    }
  }
  ::close(fd);
  if (answer != nullptr) *answer = got;
  if (got.rfind("HTTP/1.1 ", 0) != 0 || got.size() < 12) return 0;
  return std::stoi(got.substr(9, 3));
}

std::string post_text(int port, const std::string& path, const std::string& body, const std::string& type = "application/json",
                      const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

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
    EXPECT_NO_THROW(json::parse(answer.substr(body + 4))) << what;
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

TEST_F(HostileTest, GeneratedMutationsOfValidBodiesNeverAnswer5xx) {
  const std::vector<std::pair<std::string, std::string>> valid = {
      {"/api/compose", R"({"bars":4,"temperature":0.9,"top_k":20,"top_p":0.95,"seed":7,"key":"D minor","primer_steps":16})"},
      {"/api/compose", R"({"bars":3,"primer":{"name":"a.mid","data":"TVRoZAAAAAYAAQABAeA="}})"},
      {"/api/harmonize", R"({"notes":"G4:1 | C5:1.5 D5:0.5 E5 |","voice_leading":"off","tempo":0})"},
      {"/api/harmonize", R"({"melody":{"name":"tune.musicxml","data":"PHNjb3JlLXBhcnR3aXNlLz4="}})"},
      {"/api/infill", R"({"result":"0123456789abcdef0123456789abcdef","bars":[2,3],"voices":"ATB"})"}};
  std::mt19937 rng(20261201);
  int answered = 0;
  for (int k = 0; k < 400; ++k) {
    const auto& [route, body] = valid[static_cast<size_t>(k) % valid.size()];
    std::string mutated = body;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % mutated.size();
      switch (rng() % 5) {
        case 0: mutated[at] = static_cast<char>(rng() % 256); break;              // any byte
        case 1: mutated.insert(at, 1, static_cast<char>(0x80 + rng() % 128)); break;  // a stray high byte
        case 2: mutated.resize(at); break;                                         // truncated
        case 3: mutated.insert(at, std::string(1 + rng() % 40, '[')); break;        // nesting
        default: mutated[at] = static_cast<char>(mutated[at] ^ (1 << (rng() % 8)));  // a bit flipped
      }
      if (mutated.empty()) mutated = "{";
    }
    const int status = raw_status(port, post_text(port, route, mutated));
    ASSERT_NE(status, 0) << "no answer to " << route << " " << json(mutated).dump(-1, ' ', false, json::error_handler_t::replace);
    EXPECT_TRUE(status < 500 || status == 503) << status << " for " << route << " "
                                               << json(mutated).dump(-1, ' ', false, json::error_handler_t::replace);
    ++answered;
    if (k % 50 == 49) expect_alive();
  }
  EXPECT_EQ(answered, 400);
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
