// Builds Standard MIDI File bytes by hand in tests: header, track chunks, VLQs. Test fixtures
// are made in code, never read from committed files.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace bachgen::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline Bytes be16(int v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}; }
inline Bytes be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

inline Bytes header(int format, int tracks, int division) {
  return Bytes{'M', 'T', 'h', 'd'} + be32(6) + be16(format) + be16(tracks) + be16(division);
}

// A track chunk whose length is the body's (or `declared` when given).
inline Bytes track(const Bytes& body, int64_t declared = -1) {
  return Bytes{'M', 'T', 'r', 'k'} +
         be32(static_cast<uint32_t>(declared < 0 ? static_cast<int64_t>(body.size()) : declared)) +
         body;
}

inline const Bytes kEndOfTrack = {0x00, 0xFF, 0x2F, 0x00};

inline std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("BACHGEN_TEST_TMP");
  return std::string(dir ? dir : BACHGEN_TEST_TMP) + "/" + name;
}

}  // namespace bachgen::testing
