// Notes from note-on / note-off events: pairing per track, channel and pitch.
#pragma once

#include <cstdint>
#include <vector>

#include "bachgen/midi/midi_file.h"

namespace bachgen::midi {

struct Note {
  int32_t track = 0;
  uint8_t channel = 0;
  uint8_t pitch = 0;
  uint8_t velocity = 0;      // of the note-on
  uint8_t off_velocity = 0;  // of the note-off (0 for note-on velocity 0, or an unended note)
  int64_t start = 0;         // ticks
  int64_t end = 0;           // ticks; equal to start for a note whose on and off share a tick

  friend bool operator==(const Note& a, const Note& b) {
    return a.track == b.track && a.channel == b.channel && a.pitch == b.pitch &&
           a.velocity == b.velocity && a.off_velocity == b.off_velocity && a.start == b.start &&
           a.end == b.end;
  }
};

// Which sounding note a note-off ends when one pitch is struck again before it was released.
enum class OverlapRule {
  kFirstInFirstOut,  // the oldest (miditoolkit, symusic); the default
  kLastInFirstOut,   // the newest
};

struct NoteOptions {
  OverlapRule overlap = OverlapRule::kFirstInFirstOut;
};

// What pairing met that is not one clean on/off pair.
struct NoteStats {
  int64_t lone_note_offs = 0;     // a note-off with no sounding note: ignored
  int64_t unended_notes = 0;      // still sounding at the end of the track: ended there
  int64_t overlapping_notes = 0;  // a note-on while the same pitch already sounds
};

// All notes of the file, sorted by (start, track, channel, pitch, end).
std::vector<Note> extract_notes(const MidiFile& file, const NoteOptions& options = {},
                                NoteStats* stats = nullptr);

// The inverse: note-on / note-off events for notes (their channel, pitch, velocity, start and
// end; `track` is ignored), in time order. At one tick the note-offs come first, so a note
// struck again where the last one ends stays two notes; then by pitch. Velocity 0 is written
// as 1 (0 would be a note-off). Every event is a note-on or a note-off with velocity 0.
std::vector<Event> note_events(const std::vector<Note>& notes);

}  // namespace bachgen::midi
