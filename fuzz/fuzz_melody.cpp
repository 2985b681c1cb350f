// libFuzzer target for the melody readers (music/melody.h) and the four-part MusicXML reader
// (music/chorale_xml.h): the first byte picks the note-text parser (0 mod 3), the MusicXML
// melody reader (1) or the chorale reader (2); any input either parses or throws
// std::invalid_argument / std::runtime_error, and what parses is consistent.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "bachgen/music/chorale_xml.h"
#include "bachgen/music/melody.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bachgen;
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 3 == 2) {
    music::Chorale c;
    try {
      c = music::parse_chorale_musicxml(text, "fuzz.musicxml");
    } catch (const std::runtime_error&) {
      return 0;
    }
    const bool consistent = !c.grid.pitches.empty() && c.grid.onsets.size() == c.grid.steps() && c.fermatas.size() == c.grid.steps() &&
                            c.steps_per_bar > 0 && c.pickup_steps >= 0 && c.pickup_steps < c.steps_per_bar &&
                            c.grid.pitches.front() != music::GridStep{music::kSilent, music::kSilent, music::kSilent, music::kSilent};
    if (!consistent) {
      std::fprintf(stderr, "an inconsistent chorale was accepted\n");
      std::abort();
    }
    (void)c.written_grid();
    return 0;
  }
  music::Melody m;
  try {
    m = data[0] % 3 == 0 ? music::parse_melody_text(text) : music::parse_melody_musicxml(text, "fuzz.musicxml");
  } catch (const std::invalid_argument&) {
    return 0;
  } catch (const std::runtime_error&) {
    return 0;
  }
  bool ok = m.onsets.size() == m.pitches.size() && !m.pitches.empty() && m.steps_per_bar > 0 &&
            (m.fermatas.empty() || m.fermatas.size() == m.pitches.size()) &&
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
