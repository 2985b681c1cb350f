// The in-memory model of a Standard MIDI File: a header (format, division) and tracks of
// timestamped events. Reader and writer share it, so a file read and written again compares
// equal event for event. Plain C++17, no torch.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bachgen::midi {

// ---------------------------------------------------------------------------------------------
// Constants of the file format

namespace meta {  // meta event type bytes (the byte after 0xFF)
inline constexpr uint8_t kSequenceNumber = 0x00;
inline constexpr uint8_t kText = 0x01;
inline constexpr uint8_t kCopyright = 0x02;
inline constexpr uint8_t kTrackName = 0x03;
inline constexpr uint8_t kInstrumentName = 0x04;
inline constexpr uint8_t kLyric = 0x05;
inline constexpr uint8_t kMarker = 0x06;
inline constexpr uint8_t kCuePoint = 0x07;
inline constexpr uint8_t kChannelPrefix = 0x20;
inline constexpr uint8_t kPort = 0x21;
inline constexpr uint8_t kEndOfTrack = 0x2F;
inline constexpr uint8_t kTempo = 0x51;
inline constexpr uint8_t kSmpteOffset = 0x54;
inline constexpr uint8_t kTimeSignature = 0x58;
inline constexpr uint8_t kKeySignature = 0x59;
inline constexpr uint8_t kSequencerSpecific = 0x7F;
}  // namespace meta

namespace command {  // high nibble of a channel voice status byte
inline constexpr uint8_t kNoteOff = 0x80;
inline constexpr uint8_t kNoteOn = 0x90;
inline constexpr uint8_t kPolyAftertouch = 0xA0;
inline constexpr uint8_t kControlChange = 0xB0;
inline constexpr uint8_t kProgramChange = 0xC0;
inline constexpr uint8_t kChannelAftertouch = 0xD0;
inline constexpr uint8_t kPitchBend = 0xE0;
}  // namespace command

// Number of data bytes after a channel voice status byte (0x80..0xEF).
constexpr int channel_data_length(uint8_t status) {
  const uint8_t c = status & 0xF0;
  return (c == command::kProgramChange || c == command::kChannelAftertouch) ? 1 : 2;
}

inline constexpr uint32_t kDefaultTempo = 500000;  // microseconds per quarter (120 bpm)
inline constexpr uint32_t kMaxVlq = 0x0FFFFFFF;    // largest value of a 4-byte VLQ

// ---------------------------------------------------------------------------------------------
// Events

enum class EventType : uint8_t {
  kChannel,  // channel voice message: status 0x80..0xEF, data1, data2
  kMeta,     // 0xFF meta event: status holds the meta type, data the payload
  kSysex,    // 0xF0 system exclusive: data is everything after the length (usually ends in F7)
  kEscape,   // 0xF7 escape / sysex continuation: data is everything after the length
};

struct Event {
  int64_t tick = 0;  // absolute time in ticks from the start of the track
  EventType type = EventType::kChannel;
  uint8_t status = 0;  // channel: status byte; meta: meta type; sysex: 0xF0; escape: 0xF7
  uint8_t data1 = 0;   // channel: first data byte
  uint8_t data2 = 0;   // channel: second data byte (0 for one-byte messages)
  std::vector<uint8_t> data;  // meta and sysex payload; empty for channel events

  uint8_t channel() const { return status & 0x0F; }
  uint8_t command() const { return status & 0xF0; }
  bool is_channel() const { return type == EventType::kChannel; }
  bool is_meta(uint8_t meta_type) const { return type == EventType::kMeta && status == meta_type; }
  // A note-on with velocity 0 is a note-off, as the MIDI standard says.
  bool is_note_on() const { return is_channel() && command() == command::kNoteOn && data2 > 0; }
  bool is_note_off() const {
    return is_channel() && (command() == command::kNoteOff ||
                            (command() == command::kNoteOn && data2 == 0));
  }

  static Event channel_message(int64_t tick, uint8_t status, uint8_t data1, uint8_t data2 = 0);
  static Event note_on(int64_t tick, int channel, int pitch, int velocity);
  static Event note_off(int64_t tick, int channel, int pitch, int velocity = 0);
  static Event program_change(int64_t tick, int channel, int program);
  static Event control_change(int64_t tick, int channel, int controller, int value);
  static Event meta_event(int64_t tick, uint8_t meta_type, std::vector<uint8_t> payload);
  static Event text_event(int64_t tick, uint8_t meta_type, std::string_view text);
  static Event tempo(int64_t tick, uint32_t microseconds_per_quarter);
  // denominator is the real denominator (4 for 3/4), not its power of two.
  static Event time_signature(int64_t tick, int numerator, int denominator,
                              int clocks_per_click = 24, int thirty_seconds_per_quarter = 8);
  // sharps_flats: -7..7 (negative = flats); minor: false = major.
  static Event key_signature(int64_t tick, int sharps_flats, bool minor);

  friend bool operator==(const Event& a, const Event& b) {
    return a.tick == b.tick && a.type == b.type && a.status == b.status && a.data1 == b.data1 &&
           a.data2 == b.data2 && a.data == b.data;
  }
  friend bool operator!=(const Event& a, const Event& b) { return !(a == b); }
};

// Decoded meta events. Each returns nullopt when the event is not of that kind or its payload
// is too short to decode.
struct TimeSignature {
  int numerator = 4;
  int denominator = 4;  // the real denominator: 2 ** (stored power)
  int clocks_per_click = 24;
  int thirty_seconds_per_quarter = 8;
};
struct KeySignature {
  int sharps_flats = 0;  // -7..7
  bool minor = false;
  std::string name() const;  // "D minor", "E-flat major"; "?" outside -7..7
};
std::optional<uint32_t> decode_tempo(const Event& event);
std::optional<TimeSignature> decode_time_signature(const Event& event);
std::optional<KeySignature> decode_key_signature(const Event& event);
std::string event_text(const Event& event);  // a text-like meta payload as a string

// ---------------------------------------------------------------------------------------------
// Tracks and files

struct Track {
  // Events in file order; ticks never decrease. The End-of-Track meta event is not stored
  // here: its time is end_tick, and the writer always emits it.
  std::vector<Event> events;
  int64_t end_tick = 0;

  std::string name() const;  // the first track-name meta event, or ""
  friend bool operator==(const Track& a, const Track& b) {
    return a.end_tick == b.end_tick && a.events == b.events;
  }
};

// The time division word of the header.
struct Division {
  uint16_t raw = 480;

  static Division ticks_per_quarter(int tpq) { return {static_cast<uint16_t>(tpq & 0x7FFF)}; }
  // fps: 24, 25, 29 (29.97 drop-frame) or 30.
  static Division smpte(int fps, int ticks_per_frame) {
    return {static_cast<uint16_t>(((256 - fps) & 0xFF) << 8 | (ticks_per_frame & 0xFF))};
  }
  bool is_smpte() const { return (raw & 0x8000) != 0; }
  int ticks_per_quarter() const { return is_smpte() ? 0 : raw; }
  int smpte_fps() const { return is_smpte() ? 256 - (raw >> 8) : 0; }
  int ticks_per_frame() const { return is_smpte() ? (raw & 0xFF) : 0; }
  // Ticks per second for SMPTE divisions (29 means 29.97 = 30000/1001 frames per second).
  double smpte_ticks_per_second() const;
  friend bool operator==(Division a, Division b) { return a.raw == b.raw; }
};

struct MidiFile {
  int format = 1;  // 0: one track; 1: simultaneous tracks; 2: independent sequences
  Division division;
  std::vector<Track> tracks;

  friend bool operator==(const MidiFile& a, const MidiFile& b) {
    return a.format == b.format && a.division == b.division && a.tracks == b.tracks;
  }
  friend bool operator!=(const MidiFile& a, const MidiFile& b) { return !(a == b); }
};

// ---------------------------------------------------------------------------------------------
// Errors

// A file that cannot be read: names the file, the byte offset and the problem.
class MidiError : public std::runtime_error {
 public:
  static constexpr size_t kNoOffset = static_cast<size_t>(-1);  // I/O errors: no byte to name
  MidiError(std::string file, size_t offset, std::string problem);
  const std::string& file() const { return file_; }
  size_t offset() const { return offset_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_;
  size_t offset_;
  std::string problem_;
};

// Something the reader accepted although the file breaks a rule (see docs/midi.md).
struct ReadWarning {
  size_t offset = 0;
  std::string message;
};

}  // namespace bachgen::midi
