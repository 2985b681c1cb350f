// libFuzzer target for the melody readers (music/melody.h): the first byte picks the note-text
// parser (even) or the MusicXML reader (odd); any input either parses or throws
// std::invalid_argument / std::runtime_error, and a parsed melody is consistent.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "bachgen/music/melody.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bachgen;
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  music::Melody m;
  try {
    m = data[0] % 2 == 0 ? music::parse_melody_text(text) : music::parse_melody_musicxml(text, "fuzz.musicxml");
  } catch (const std::invalid_argument&) {
    return 0;
  } catch (const std::runtime_error&) {
    return 0;
  }
  bool ok = m.onsets.size() == m.pitches.size() && !m.pitches.empty() && m.steps_per_bar > 0 &&
            m.pickup_steps >= 0 && m.pickup_steps < m.steps_per_bar;
  for (size_t t = 0; ok && t < m.steps(); ++t) {
    ok = m.pitches[t] >= music::kSilent && (!m.onsets[t] || m.pitches[t] != music::kSilent);
  }
  if (!ok) {
    std::fprintf(stderr, "an inconsistent melody was accepted\n");
    std::abort();
  }
  try {
    music::check_soprano(m, "fuzz", 60, 81, 1024);
  } catch (const std::invalid_argument&) {
  }
  (void)music::describe_step(m, m.steps() - 1);
  return 0;
}
