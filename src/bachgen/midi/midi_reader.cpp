// The Standard MIDI File parser: one pass over the bytes, no allocation per channel event
// beyond the event vector itself. Every failure names the byte offset where it was found.
#include "bachgen/midi/midi_reader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "bachgen/io/files.h"

namespace bachgen::midi {

namespace {

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint16_t read_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t read_le32(const uint8_t* p) {
  return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[0]};
}

std::string hex_bytes(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, i ? " %02X" : "%02X", p[i]);
    s += buf;
  }
  return s;
}

bool is_printable_id(const uint8_t* p) {
  return std::all_of(p, p + 4, [](uint8_t c) { return c >= 0x20 && c < 0x7F; });
}

class Parser {
 public:
  Parser(const uint8_t* base, std::string_view name, std::vector<ReadWarning>* warnings)
      : base_(base), name_(name), warnings_(warnings) {}

  MidiFile parse(const uint8_t* p, const uint8_t* end);

 private:
  enum class VlqResult { kOk, kTruncated };

  [[noreturn]] void fail(const uint8_t* at, const std::string& problem) const {
    throw MidiError(std::string(name_), static_cast<size_t>(at - base_), problem);
  }
  void warn(const uint8_t* at, std::string message) const {
    if (warnings_) warnings_->push_back({static_cast<size_t>(at - base_), std::move(message)});
  }

  // A variable-length quantity of at most 4 bytes; a longer one is an error.
  VlqResult read_vlq(const uint8_t*& p, const uint8_t* end, uint32_t& value) const {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      if (p >= end) return VlqResult::kTruncated;
      const uint8_t b = *p++;
      v = (v << 7) | (b & 0x7F);
      if (!(b & 0x80)) {
        value = v;
        return VlqResult::kOk;
      }
    }
    fail(p - 4, "variable-length quantity longer than 4 bytes");
  }

  void parse_track(const uint8_t* p, const uint8_t* end, bool clamped, size_t index,
                   Track& track) const;

  const uint8_t* base_;
  std::string_view name_;
  std::vector<ReadWarning>* warnings_;
};

void Parser::parse_track(const uint8_t* p, const uint8_t* end, bool clamped, size_t index,
                         Track& track) const {
  const std::string label = "track " + std::to_string(index) + ": ";
  // Every event takes at least 2 bytes, so this never over-reserves by more than a constant.
  track.events.reserve(static_cast<size_t>(end - p) / 3);
  int64_t tick = 0;
  int64_t last_tick = 0;
  uint8_t running = 0;  // running status; meta and sysex events leave it alone (as mido does)
  const uint8_t* event_start = p;

  // An event that runs past the end of the data: the file was cut short (the chunk length
  // was clamped) and the partial event is dropped, or the chunk length is wrong and we stop.
  auto truncated = [&]() {
    if (!clamped) fail(event_start, label + "event runs past the end of its track chunk");
    warn(event_start, label + "the file ends inside an event; the partial event is dropped");
    track.end_tick = last_tick;
  };

  while (p < end) {
    event_start = p;
    uint32_t delta = 0;
    if (read_vlq(p, end, delta) != VlqResult::kOk || p >= end) return truncated();
    tick += delta;
    const uint8_t b = *p;
    if (b == 0xFF) {
      if (end - p < 2) return truncated();
      const uint8_t type = p[1];
      p += 2;
      uint32_t length = 0;
      if (read_vlq(p, end, length) != VlqResult::kOk) return truncated();
      if (length > static_cast<size_t>(end - p)) return truncated();
      if (type == meta::kEndOfTrack) {
        track.end_tick = tick;
        p += length;
        if (p < end) {
          warn(p, label + std::to_string(end - p) + " bytes after End-of-Track ignored");
        }
        return;
      }
      track.events.push_back(Event::meta_event(tick, type, std::vector<uint8_t>(p, p + length)));
      p += length;
    } else if (b == 0xF0 || b == 0xF7) {
      ++p;
      uint32_t length = 0;
      if (read_vlq(p, end, length) != VlqResult::kOk) return truncated();
      if (length > static_cast<size_t>(end - p)) return truncated();
      Event e;
      e.tick = tick;
      e.type = b == 0xF0 ? EventType::kSysex : EventType::kEscape;
      e.status = b;
      e.data.assign(p, p + length);
      track.events.push_back(std::move(e));
      p += length;
    } else if (b > 0xF0) {
      fail(p, label + "status byte " + hex_bytes(p, 1) +
                  " (system common or real-time) cannot appear in a MIDI file");
    } else {
      uint8_t status = running;
      if (b & 0x80) {
        status = running = b;
        ++p;
      } else if (running == 0) {
        fail(p, label + "running status without a previous status byte (data byte " +
                    hex_bytes(p, 1) + ")");
      }
      const int n = channel_data_length(status);
      if (end - p < n) return truncated();
      const uint8_t d1 = p[0];
      const uint8_t d2 = n == 2 ? p[1] : 0;
      if ((d1 | d2) & 0x80) {
        fail(p, label + "data byte above 127 in a channel message (status " +
                    hex_bytes(&status, 1) + ")");
      }
      p += n;
      Event& e = track.events.emplace_back();
      e.tick = tick;
      e.status = status;
      e.data1 = d1;
      e.data2 = d2;
    }
    last_tick = tick;
  }
  warn(end, label + "no End-of-Track event; the track ends at its last event");
  track.end_tick = last_tick;
}

MidiFile Parser::parse(const uint8_t* p, const uint8_t* end) {
  // RIFF-wrapped MIDI ("RMID", common on Windows): the SMF is the payload of the "data" chunk.
  if (end - p >= 12 && std::memcmp(p, "RIFF", 4) == 0 && std::memcmp(p + 8, "RMID", 4) == 0) {
    const uint8_t* q = p + 12;
    const uint8_t* data = nullptr;
    while (end - q >= 8) {
      const uint32_t length = read_le32(q + 4);
      if (std::memcmp(q, "data", 4) == 0) {
        data = q + 8;
        end = data + std::min<size_t>(length, static_cast<size_t>(end - data));
        break;
      }
      if (length > static_cast<size_t>(end - q - 8)) break;
      q += 8 + length + (length & 1);  // RIFF chunks are padded to even sizes
    }
    if (!data) fail(p + 12, "RIFF RMID file has no 'data' chunk");
    p = data;
  }

  if (end - p < 14) {
    if (end - p >= 4 && std::memcmp(p, "MThd", 4) != 0) {
      fail(p, "not a Standard MIDI File: expected 'MThd', found " + hex_bytes(p, 4));
    }
    fail(p, "file too short for a MIDI header (" + std::to_string(end - p) + " bytes)");
  }
  if (std::memcmp(p, "MThd", 4) != 0) {
    fail(p, "not a Standard MIDI File: expected 'MThd', found " + hex_bytes(p, 4));
  }
  const uint32_t header_length = read_be32(p + 4);
  if (header_length < 6) {
    fail(p + 4, "header chunk length " + std::to_string(header_length) + " is less than 6");
  }
  if (header_length > static_cast<size_t>(end - p - 8)) {
    fail(p + 4, "header chunk length " + std::to_string(header_length) +
                    " runs past the end of the file");
  }
  MidiFile file;
  file.format = read_be16(p + 8);
  const uint16_t declared_tracks = read_be16(p + 10);
  file.division.raw = read_be16(p + 12);
  if (file.format > 2) {
    fail(p + 8, "unsupported MIDI file format " + std::to_string(file.format) +
                    " (formats 0, 1 and 2 exist)");
  }
  if (file.division.is_smpte()) {
    const int fps = file.division.smpte_fps();
    if (fps != 24 && fps != 25 && fps != 29 && fps != 30) {
      fail(p + 12, "SMPTE division with " + std::to_string(fps) +
                       " frames per second (24, 25, 29 or 30 exist)");
    }
    if (file.division.ticks_per_frame() == 0) fail(p + 12, "SMPTE division with 0 ticks per frame");
  } else if (file.division.raw == 0) {
    fail(p + 12, "division of 0 ticks per quarter note");
  }
  if (file.format == 0 && declared_tracks != 1) {
    warn(p + 10, "format 0 file declares " + std::to_string(declared_tracks) + " tracks");
  }
  p += 8 + header_length;  // a longer header is allowed: its extra bytes are skipped

  file.tracks.reserve(std::min<size_t>(declared_tracks, static_cast<size_t>(end - p) / 8 + 1));
  while (file.tracks.size() < declared_tracks) {
    if (p == end) {
      warn(p, "header declares " + std::to_string(declared_tracks) +
                  " tracks but the file holds " + std::to_string(file.tracks.size()));
      break;
    }
    if (end - p < 8) {
      warn(p, std::to_string(end - p) + " bytes at the end of the file are not a whole chunk; ignored");
      break;
    }
    const bool is_track = std::memcmp(p, "MTrk", 4) == 0;
    if (!is_track && !is_printable_id(p)) {
      fail(p, "expected a track chunk ('MTrk'), found bytes " + hex_bytes(p, 4));
    }
    size_t length = read_be32(p + 4);
    const uint8_t* body = p + 8;
    bool clamped = false;
    if (length > static_cast<size_t>(end - body)) {
      if (!is_track) {
        warn(p, "chunk '" + std::string(reinterpret_cast<const char*>(p), 4) +
                    "' runs past the end of the file; ignored");
        break;
      }
      warn(p + 4, "track " + std::to_string(file.tracks.size()) + ": chunk declares " +
                      std::to_string(length) + " bytes but only " +
                      std::to_string(end - body) + " remain; reading what is there");
      length = static_cast<size_t>(end - body);
      clamped = true;
    }
    if (is_track) {
      parse_track(body, body + length, clamped, file.tracks.size(), file.tracks.emplace_back());
    }  // chunks of other types are skipped, as the standard asks
    p = body + length;
  }
  if (end - p >= 8 && std::memcmp(p, "MTrk", 4) == 0) {
    warn(p, "the file holds more track chunks than the " + std::to_string(declared_tracks) +
                " its header declares; the extra ones are ignored");
  }
  return file;
}

}  // namespace

MidiFile parse_midi(const uint8_t* bytes, size_t size, std::string_view source_name,
                    std::vector<ReadWarning>* warnings) {
  Parser parser(bytes, source_name, warnings);
  return parser.parse(bytes, bytes + size);
}

MidiFile read_midi_file(const std::string& path, std::vector<ReadWarning>* warnings) {
  std::vector<uint8_t> bytes;
  try {
    bytes = io::read_file_bytes(path, kMaxMidiFileBytes);
  } catch (const std::exception& e) {
    throw MidiError(path, MidiError::kNoOffset, e.what());
  }
  return parse_midi(bytes, path, warnings);
}

}  // namespace bachgen::midi
