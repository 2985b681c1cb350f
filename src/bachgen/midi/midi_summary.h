// What `bachgen inspect` reports about a MIDI file: format, division, tracks, notes, duration,
// tempo / time-signature / key-signature changes, and every leniency the reader applied.
// The JSON keys are documented in docs/midi.md and are stable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/midi/midi_file.h"
#include "bachgen/midi/notes.h"

namespace bachgen::midi {

struct TrackSummary {
  size_t index = 0;
  std::string name;
  std::vector<int> channels;  // channels with any channel event, ascending
  int64_t events = 0;
  int64_t notes = 0;
  int lowest_pitch = -1;   // -1 when the track has no notes
  int highest_pitch = -1;
  int64_t end_tick = 0;
};

struct TempoPoint {
  size_t track = 0;
  int64_t tick = 0;
  double seconds = 0;
  uint32_t us_per_quarter = kDefaultTempo;
};

struct TimeSignaturePoint {
  size_t track = 0;
  int64_t tick = 0;
  double seconds = 0;
  TimeSignature signature;
};

struct KeySignaturePoint {
  size_t track = 0;
  int64_t tick = 0;
  double seconds = 0;
  KeySignature signature;
};

struct MidiSummary {
  std::string path;
  size_t bytes = 0;
  int format = 1;
  Division division;
  std::vector<TrackSummary> tracks;
  int64_t notes = 0;
  int64_t end_tick = 0;        // the latest track end or note end
  double duration_seconds = 0;
  std::vector<TempoPoint> tempos;  // every tempo event, in time order
  std::vector<TimeSignaturePoint> time_signatures;
  std::vector<KeySignaturePoint> key_signatures;
  NoteStats note_stats;
  std::vector<ReadWarning> warnings;
};

MidiSummary summarize_midi(const MidiFile& file, std::string path, size_t bytes,
                           std::vector<ReadWarning> warnings);

std::string summary_to_json(const MidiSummary& summary);  // one object, one line
std::string summary_to_text(const MidiSummary& summary);  // a few aligned lines for people

// One row per file for `inspect --table`: file, format, tracks, notes, the pitch range of each
// track with notes, first meter, key and tempo, length in quarters and seconds.
std::string summary_table_header();
std::string summary_table_row(const MidiSummary& summary);

}  // namespace bachgen::midi
