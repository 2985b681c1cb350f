// libFuzzer target for compressed MusicXML (music/melody.h's parse_melody_mxl over
// io/zip_archive.h): any bytes either give a consistent melody or throw std::runtime_error /
// std::invalid_argument, within the reader's size limits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "bachgen/music/melody.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bachgen;
  music::Melody m;
  try {
    m = music::parse_melody_mxl(std::vector<uint8_t>(data, data + size), "fuzz.mxl");
  } catch (const std::invalid_argument&) {
    return 0;
  } catch (const std::runtime_error&) {
    return 0;
  }
  if (m.onsets.size() != m.pitches.size() || m.pitches.empty() || m.steps_per_bar <= 0) {
    std::fprintf(stderr, "an inconsistent melody was accepted\n");
    std::abort();
  }
  return 0;
}
