// libFuzzer target for the melody readers (music/melody.h) and the four-part MusicXML reader
// (music/chorale_xml.h): the first byte picks the note-text parser (0 mod 3), the MusicXML
// melody reader (1) or the chorale reader (2); any input either parses or throws
// std::invalid_argument / std::runtime_error, and what parses is consistent. What parses is also
// written: a chorale as MusicXML on four staves and on two (the speller and the engraver on
// hostile input; its spellings kept where they fit), a melody as note text that must read back
// as the same notes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "bachgen/music/chorale_xml.h"
#include "bachgen/music/melody.h"
#include "bachgen/music/spelling.h"
#include "bachgen/render/musicxml.h"

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
    if (c.spellings.size() != c.grid.steps()) {
      std::fprintf(stderr, "a chorale's spellings do not match its grid\n");
      std::abort();
    }
    if (c.grid.steps() <= 4096 && c.steps_per_bar <= 64) {
      const std::vector<music::SpelledNote> notes = music::spelled_notes(c);
      for (const music::SpelledNote& n : notes) {
        const int kept = c.spellings[static_cast<size_t>(n.start)][static_cast<size_t>(n.voice)];
        if (music::pitch_class_of_fifths(n.fifths) != n.pitch % 12 || (kept != music::kUnspelled && music::pitch_class_of_fifths(kept) == n.pitch % 12 && kept != n.fifths)) {
          std::fprintf(stderr, "a note was spelled as another pitch, or its written spelling was not kept\n");
          std::abort();
        }
      }
      (void)render::to_musicxml(c, "fuzz");
      (void)render::to_musicxml(c, "fuzz", render::Staves::kTwo);
    }
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
    ok = m.pitches[t] >= music::kSilent && (!m.onsets[t] || m.pitches[t] != music::kSilent) &&
         (m.onsets[t] || m.pitches[t] == music::kSilent || (t > 0 && m.pitches[t - 1] == m.pitches[t]));
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
  // Written back as note text, it reads as the same notes (the leading rests aside).
  if (m.steps() <= 4096 && m.steps_per_bar <= 64) {
    music::Chorale c = music::soprano_chorale(m);
    c.start_at_first_note();
    if (c.grid.steps() > 0 && c.grid.pitches.front()[0] != music::kSilent) {
      const music::Melody again = music::parse_melody_text(music::melody_text(c));
      bool same = again.steps() == c.grid.steps();
      for (size_t t = 0; same && t < again.steps(); ++t) {
        same = again.pitches[t] == c.grid.pitches[t][0] && again.onsets[t] == c.grid.is_onset(t, 0);
      }
      if (!same) {
        std::fprintf(stderr, "note text written from a melody read back differently\n");
        std::abort();
      }
    }
  }
  return 0;
}
