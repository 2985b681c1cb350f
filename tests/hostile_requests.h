// The studio's hostile-request suite (issue 16), one list for two servers: the StudioServer over
// a stand-in backend (tests/test_studio_hostile.cpp, also under the sanitizers) and `bachgen
// serve` with the bundled models (tests/test_serve_hostile.cpp). Raw bytes on loopback sockets,
// so nothing a client library would tidy up (a byte 0xFF in a path, two Content-Lengths, a
// chunked body) is lost.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bachgen/io/zip_archive.h"
#include "bachgen/serve/studio_api.h"

namespace bachgen::testing {

// A connected loopback socket whose reads give up after `seconds`, or -1.
inline int connect_loopback(int port, int seconds) {
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

// Sends `text` on `fd`, all of it; false once the peer is gone.
inline bool send_all(int fd, const std::string& text) {
  for (size_t sent = 0; sent < text.size();) {
    const ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// One request as raw bytes on a fresh connection; the status of the answer (0: none).
inline int raw_status(int port, const std::string& request, std::string* answer = nullptr, int seconds = 10) {
  const int fd = connect_loopback(port, seconds);
  if (fd < 0) return 0;
  send_all(fd, request);  // the server may answer (and close) before it has read everything
  std::string got;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
    got.append(buffer, static_cast<size_t>(n));
    const size_t end = got.find("\r\n\r\n");
    if (end != std::string::npos) {
      const size_t at = got.find("Content-Length: ");
      if (at != std::string::npos && at < end && got.size() >= end + 4 + std::stoul(got.substr(at + 16))) break;
    }
  }
  ::close(fd);
  if (answer != nullptr) *answer = got;
  if (got.rfind("HTTP/1.1 ", 0) != 0 || got.size() < 12) return 0;
  return std::stoi(got.substr(9, 3));
}

inline std::string post_text(int port, const std::string& path, const std::string& body, const std::string& type = "application/json",
                             const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

inline std::string get_text(int port, const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\nConnection: close\r\n\r\n";
}

// What a case must get: a status, any 4xx, or (a request that may turn out valid) 200, 503 or
// any 4xx. Never a 5xx other than 503, never no answer.
enum : int { kAny4xx = 0, kNot5xx = -1 };

struct HostileCase {
  std::string what;
  std::string request;
  int expect = kAny4xx;
  bool json_answer = true;  // the answer's body is JSON that parses (its error text is UTF-8)
};

// Valid bodies of every route, the starting points of the mutations.
inline std::vector<std::pair<std::string, nlohmann::json>> valid_bodies(const std::string& result_id) {
  using nlohmann::json;
  return {
      {"/api/compose", json::parse(R"({"bars":4,"temperature":0.9,"top_k":20,"top_p":0.95,"seed":7,"key":"D minor","primer_steps":16})")},
      {"/api/compose", json{{"bars", 2}, {"primer", {{"result", result_id}}}, {"primer_steps", 16}}},
      {"/api/harmonize", json::parse(R"({"notes":"G4:1 | C5:1.5 D5:0.5 E5 |","voice_leading":"off","tempo":90,"seed":3})")},
      {"/api/infill", json{{"result", result_id}, {"bars", {1, 1}}, {"voices", "ATB"}, {"seed", 5}}}};
}

// Every string and number leaf of `body` in turn replaced by text holding bytes that are not
// UTF-8, and every key given such a byte: each must be a 400.
inline void invalid_utf8_in_every_field(int port, const std::string& route, const nlohmann::json& body, std::vector<HostileCase>& cases) {
  const std::string bad = "x\xFF\xC3";
  const std::function<void(const nlohmann::json::json_pointer&, const nlohmann::json&)> walk =
      [&](const nlohmann::json::json_pointer& at, const nlohmann::json& value) {
        if (value.is_object()) {
          for (const auto& [key, inner] : value.items()) walk(at / key, inner);
          return;
        }
        if (value.is_array()) {
          for (size_t i = 0; i < value.size(); ++i) walk(at / i, value[i]);
          return;
        }
        nlohmann::json changed = body;
        changed[at] = "@@";
        std::string text = changed.dump();
        text.replace(text.find("\"@@\""), 4, "\"" + bad + "\"");
        cases.push_back({route + " " + at.to_string() + " holds 0xFF", post_text(port, route, text), 400});
        std::string key_text = body.dump();
        const std::string key = "\"" + at.back() + "\":";
        if (const size_t k = key_text.find(key); k != std::string::npos && !at.back().empty() && !std::isdigit(static_cast<unsigned char>(at.back()[0]))) {
          key_text.insert(k + 1, bad);
          cases.push_back({route + " key " + at.to_string() + " holds 0xFF", post_text(port, route, key_text), 400});
        }
      };
  walk(nlohmann::json::json_pointer(), body);
}

// Damaged copies of uploads (truncated, bits flipped) as melodies and primers; `files` are
// (name, bytes) of files that read.
inline void damaged_uploads(int port, const std::vector<std::pair<std::string, std::string>>& files, int count, uint32_t seed,
                            std::vector<HostileCase>& cases) {
  std::mt19937 rng(seed);
  for (int k = 0; k < count; ++k) {
    const auto& [name, original] = files[static_cast<size_t>(k) % files.size()];
    std::string damaged = original;
    if (k % 2 == 0) {
      damaged.resize(rng() % damaged.size());
    } else {
      for (int f = 0; f < 1 + k % 5; ++f) damaged[rng() % damaged.size()] ^= static_cast<char>(1 << (rng() % 8));
    }
    const nlohmann::json upload = {{"name", name}, {"data", serve::encode_base64(damaged)}};
    const bool primer = name.size() > 4 && name.substr(name.size() - 4) == ".mid" && k % 4 == 0;
    const nlohmann::json body = primer ? nlohmann::json{{"bars", 2}, {"primer", upload}} : nlohmann::json{{"melody", upload}};
    cases.push_back({"damaged " + name + (primer ? " as a primer" : " as a melody") + " #" + std::to_string(k),
                     post_text(port, primer ? "/api/compose" : "/api/harmonize", body.dump()), kNot5xx});
  }
}

// The whole suite: the cases of the issue, then `generated` mutations of valid bodies.
inline std::vector<HostileCase> hostile_cases(int port, const std::string& result_id, const std::vector<std::pair<std::string, std::string>>& files,
                                              int generated, uint32_t seed) {
  std::vector<HostileCase> cases;
  const std::string host = "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  // Invalid UTF-8: whole bodies, every field of every route, paths.
  for (const char* route : {"/api/compose", "/api/harmonize", "/api/infill"}) {
    cases.push_back({std::string(route) + " key C\\xFF", post_text(port, route, "{\"bars\":1,\"key\":\"C\xFF\"}"), 400});
    cases.push_back({std::string(route) + " cut-off character", post_text(port, route, "{\"notes\":\"\xC3\"}"), 400});
    cases.push_back({std::string(route) + " a surrogate", post_text(port, route, "{\"notes\":\"\xED\xA0\x80\"}"), 400});
  }
  for (const auto& [route, body] : valid_bodies(result_id)) invalid_utf8_in_every_field(port, route, body, cases);
  for (const char* path : {"/%FF", "/api/results/..%c0%af..%c0%afetc/passwd", "/api/results/%FF%FE.mid", "/api/%C0%AFinfo", "/\xFF\xFE",
                           "/api/results/0123456789abcdef0123456789abcdef.mid%00", "/index.html%FF"}) {
    cases.push_back({std::string("GET ") + path, "GET " + std::string(path) + " HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", kAny4xx});
  }
  // Nesting, NUL, numbers.
  cases.push_back({"500,000 brackets", post_text(port, "/api/compose", "{\"primer\":" + std::string(500000, '[') + std::string(500000, ']') + "}"), 400});
  std::string deep = "{\"melody\":";
  for (int i = 0; i < 100000; ++i) deep += "{\"a\":";
  deep += "1" + std::string(100000, '}') + "}";
  cases.push_back({"100,000 objects", post_text(port, "/api/harmonize", deep), 400});
  cases.push_back({"a trailing NUL", post_text(port, "/api/compose", std::string("{\"bars\":2}\0", 11)), 400});
  cases.push_back({"a NUL inside", post_text(port, "/api/harmonize", std::string("{\"notes\":\"C5\0\"}", 15)), 400});
  for (const char* number : {"1e400", "-1e400", "99999999999999999999999", "-99999999999999999999999", "1.5", "-3", "0", "NaN", "true", "\"4\""}) {
    cases.push_back({std::string("bars ") + number, post_text(port, "/api/compose", std::string("{\"bars\":") + number + "}"), 400});
  }
  for (const char* field : {"temperature", "top_k", "top_p", "seed", "primer_steps"}) {
    cases.push_back({std::string(field) + " 1e400", post_text(port, "/api/compose", std::string("{\"bars\":2,\"") + field + "\":1e400}"), 400});
  }
  // Huge bodies and framing.
  cases.push_back({"a Content-Length of 1 GB", "POST /api/compose HTTP/1.1\r\n" + host + "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{", 413});
  cases.push_back({"a 3 MB body", post_text(port, "/api/harmonize", "{\"notes\":\"" + std::string(3 << 20, 'C') + "\"}"), 413});
  cases.push_back({"a Content-Length that is no number", "POST /api/compose HTTP/1.1\r\n" + host + "Content-Type: application/json\r\nContent-Length: 1x\r\n\r\n{}", kAny4xx, false});
  cases.push_back({"chunked", "POST /api/compose HTTP/1.1\r\n" + host + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\na\r\n{\"bars\":2}\r\n0\r\n\r\n", 411});
  cases.push_back({"two Content-Lengths", "POST /api/compose HTTP/1.1\r\n" + host + "Content-Type: application/json\r\nContent-Length: 10\r\nContent-Length: 2\r\n\r\n{\"bars\":2}", 400});
  // Content types and hosts.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", ""}) {
    cases.push_back({std::string("Content-Type '") + type + "'", post_text(port, "/api/compose", "{\"bars\":2}", type), 415});
  }
  const std::string get = "GET /health HTTP/1.1\r\nConnection: close\r\n";
  cases.push_back({"a foreign Host", get + "Host: evil.example\r\n\r\n", 403});
  cases.push_back({"a foreign Host with our port", get + "Host: evil.example:" + std::to_string(port) + "\r\n\r\n", 403});
  cases.push_back({"no Host", get + "\r\n", 403});
  cases.push_back({"two Hosts", get + "Host: localhost\r\nHost: evil.example\r\n\r\n", 403});
  cases.push_back({"a Host with 0xFF", get + "Host: local\xFFhost\r\n\r\n", 403});
  // Uploads that are damaged.
  if (!files.empty()) damaged_uploads(port, files, 36, seed + 1, cases);
  // Generated: a few edits of a valid body each.
  std::mt19937 rng(seed);
  const auto bodies = valid_bodies(result_id);
  for (int k = 0; k < generated; ++k) {
    const auto& [route, body] = bodies[static_cast<size_t>(k) % bodies.size()];
    std::string mutated = body.dump();
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % mutated.size();
      switch (rng() % 6) {
        case 0: mutated[at] = static_cast<char>(rng() % 256); break;                  // any byte
        case 1: mutated.insert(at, 1, static_cast<char>(0x80 + rng() % 128)); break;  // a stray high byte
        case 2: mutated.resize(at); break;                                           // truncated
        case 3: mutated.insert(at, std::string(1 + rng() % 40, '[')); break;          // nesting
        case 4: mutated.insert(at, std::to_string(rng())); break;                     // a number grows
        default: mutated[at] = static_cast<char>(mutated[at] ^ (1 << (rng() % 8)));  // a bit flipped
      }
      if (mutated.empty()) mutated = "{";
    }
    cases.push_back({"mutation " + std::to_string(k) + " of " + route + ": " +
                         nlohmann::json(mutated).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                     post_text(port, route, mutated), kNot5xx});
  }
  return cases;
}

// Sends every case and checks its answer; after every `health_every` cases (and at the end),
// /health must answer 200. Prints how many got each status.
inline void run_hostile_cases(int port, const std::vector<HostileCase>& cases, int health_every, int seconds) {
  int since = 0;
  std::map<int, int> statuses;
  for (const HostileCase& c : cases) {
    std::string answer;
    const int status = raw_status(port, c.request, &answer, seconds);
    ASSERT_NE(status, 0) << "no answer to " << c.what;
    ++statuses[status];
    if (c.expect == kAny4xx) {
      EXPECT_TRUE(status >= 400 && status < 500) << c.what << " -> " << answer.substr(0, 300);
    } else if (c.expect == kNot5xx) {
      EXPECT_TRUE(status == 200 || status == 503 || (status >= 400 && status < 500)) << c.what << " -> " << answer.substr(0, 300);
    } else {
      EXPECT_EQ(status, c.expect) << c.what << " -> " << answer.substr(0, 300);
    }
    if (c.json_answer) {
      const size_t body = answer.find("\r\n\r\n");
      ASSERT_NE(body, std::string::npos) << c.what;
      nlohmann::json parsed;
      EXPECT_NO_THROW(parsed = nlohmann::json::parse(answer.substr(body + 4))) << c.what << " -> " << answer.substr(0, 300);
    }
    if (++since >= health_every || &c == &cases.back()) {
      since = 0;
      ASSERT_EQ(raw_status(port, get_text(port, "/health"), nullptr, seconds), 200) << "/health did not answer after " << c.what;
    }
  }
  std::printf("%zu hostile requests answered:", cases.size());
  for (const auto& [status, n] : statuses) std::printf(" %d: %d", status, n);
  std::printf("\n");
}

}  // namespace bachgen::testing
