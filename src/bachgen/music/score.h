// A Score: notes with pitch, onset, duration, velocity and voice, plus tempo, time and key
// signatures, in ticks of a chosen resolution. The meeting point of MIDI files, the JSB grid
// and the tokenizers. Plain C++17, no torch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/midi/midi_file.h"
#include "bachgen/midi/tempo_map.h"
#include "bachgen/music/chorale_grid.h"

namespace bachgen::music {

struct ScoreNote {
  int pitch = 60;
  int64_t onset = 0;     // ticks
  int64_t duration = 0;  // ticks
  int velocity = 80;
  int voice = 0;  // 0 = soprano in SATB music
  friend bool operator==(const ScoreNote& a, const ScoreNote& b) {
    return a.pitch == b.pitch && a.onset == b.onset && a.duration == b.duration &&
           a.velocity == b.velocity && a.voice == b.voice;
  }
};

struct TimedTimeSignature {
  int64_t tick = 0;
  midi::TimeSignature signature;
};
struct TimedKeySignature {
  int64_t tick = 0;
  midi::KeySignature signature;
};

struct Score {
  int ticks_per_quarter = 480;
  std::vector<ScoreNote> notes;  // sorted by (onset, voice, pitch)
  std::vector<midi::TempoChange> tempos;
  std::vector<TimedTimeSignature> time_signatures;
  std::vector<TimedKeySignature> key_signatures;
  std::vector<std::string> voice_names;  // one per voice
  int64_t end_tick = 0;

  int voices() const { return static_cast<int>(voice_names.size()); }
  void sort_notes();
};

inline const std::vector<std::string>& satb_voice_names() {
  static const std::vector<std::string> names = {"Soprano", "Alto", "Tenor", "Bass"};
  return names;
}

// Voices are the tracks that hold notes, in track order (so for the SATB chorale files,
// voice 0 is the soprano); each voice is named after its track, or "Voice N". Tempo, time and
// key signatures come from every track. The tick resolution is the file's (SMPTE files are
// refused with std::invalid_argument).
Score score_from_midi(const midi::MidiFile& file);
// The file read and made a Score; throws std::runtime_error "PATH: PROBLEM" (the path named once).
Score read_score_midi(const std::string& path);

// A format-1 file: a conductor track (tempo, time and key signatures), then one named track per
// voice on channel = voice (mod 16), with program `program` (General MIDI; 52 = choir aahs).
midi::MidiFile score_to_midi(const Score& score, int program = 52);

// --- The 16th-note grid -----------------------------------------------------------------------

// What any reader takes at most: far above a real piece (Bach's longest chorale is under 100
// bars), so that a tiny file claiming a huge length (an end-of-track delta of 2^26 ticks)
// is refused before a grid is made for it.
inline constexpr int64_t kMaxGridSteps = 10000 * 16;   // 10,000 bars of 4/4
inline constexpr int64_t kMaxGridNotes = 1000000;      // 1 M notes

struct GridOptions {
  int voices = kVoices;  // voices beyond these are ignored; missing ones stay silent
  int64_t max_steps = kMaxGridSteps;  // longer music is refused (std::invalid_argument naming the limit)
  int64_t max_notes = kMaxGridNotes;  // so are more notes
};

struct GridStats {
  int64_t off_grid_onsets = 0;  // onsets not on a 16th, snapped to the nearest
  int64_t divisi_steps = 0;     // steps where a voice had two notes; one was kept (see below)
  int64_t notes = 0;
};

// A Score on the 16th grid (a 16th = ticks_per_quarter / 4 ticks; the resolution must be a
// multiple of 4). Onsets and ends snap to the nearest 16th (a note keeps at least one step).
// Where a voice holds two notes at one step (divisi), the upper voices (soprano, alto) keep the
// higher pitch and the lower (tenor, bass) the lower: each keeps its outer line. Onset flags
// are set, so repeated notes survive.
ChoraleGrid score_to_grid(const Score& score, const GridOptions& options = {},
                          GridStats* stats = nullptr);

// A grid as a Score of four voices (Soprano, Alto, Tenor, Bass): consecutive steps of one pitch
// are one held note unless the grid marks an onset there (the JSB grid cannot tell holds from
// repeats). 120 bpm and 4/4 unless tempo or meter are given.
Score grid_to_score(const ChoraleGrid& grid, int ticks_per_quarter = 480,
                    uint32_t us_per_quarter = midi::kDefaultTempo, int velocity = 80);

}  // namespace bachgen::music
