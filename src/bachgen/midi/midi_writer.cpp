// The Standard MIDI File encoder: the inverse of midi_reader.cpp for every event it keeps.
#include "bachgen/midi/midi_writer.h"

#include <algorithm>
#include <stdexcept>

#include "bachgen/io/files.h"

namespace bachgen::midi {

namespace {

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put_be16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put_vlq(std::vector<uint8_t>& out, uint32_t v) {
  uint8_t buf[4];
  int n = 0;
  do {
    buf[n++] = static_cast<uint8_t>(v & 0x7F);
    v >>= 7;
  } while (v != 0 && n < 4);
  while (n > 1) out.push_back(static_cast<uint8_t>(buf[--n] | 0x80));
  out.push_back(buf[0]);
}

[[noreturn]] void reject(size_t track, size_t event, const std::string& problem) {
  throw std::invalid_argument("cannot write MIDI: track " + std::to_string(track) + ", event " +
                              std::to_string(event) + ": " + problem);
}

uint32_t checked_length(size_t size, size_t track, size_t event) {
  if (size > kMaxVlq) reject(track, event, "payload of " + std::to_string(size) + " bytes is too long");
  return static_cast<uint32_t>(size);
}

void encode_track(std::vector<uint8_t>& out, const Track& track, size_t index,
                  const WriteOptions& options) {
  out.insert(out.end(), {'M', 'T', 'r', 'k', 0, 0, 0, 0});
  const size_t length_at = out.size() - 4;
  int64_t previous = 0;
  uint8_t running = 0;
  auto put_delta = [&](int64_t tick, size_t event) {
    if (tick < previous) reject(index, event, "tick goes backwards");
    if (tick - previous > kMaxVlq) reject(index, event, "delta time too large for a MIDI file");
    put_vlq(out, static_cast<uint32_t>(tick - previous));
    previous = tick;
  };
  for (size_t i = 0; i < track.events.size(); ++i) {
    const Event& e = track.events[i];
    put_delta(e.tick, i);
    switch (e.type) {
      case EventType::kChannel: {
        if (e.status < 0x80 || e.status > 0xEF) reject(index, i, "bad channel status byte");
        if ((e.data1 | e.data2) & 0x80) reject(index, i, "data byte above 127");
        if (!options.running_status || e.status != running) out.push_back(e.status);
        running = e.status;
        out.push_back(e.data1);
        if (channel_data_length(e.status) == 2) out.push_back(e.data2);
        break;
      }
      case EventType::kMeta:
        if (e.status == meta::kEndOfTrack) reject(index, i, "End-of-Track is written from end_tick");
        out.push_back(0xFF);
        out.push_back(e.status);
        put_vlq(out, checked_length(e.data.size(), index, i));
        out.insert(out.end(), e.data.begin(), e.data.end());
        running = 0;  // the standard cancels running status here; our reader does not need it
        break;
      case EventType::kSysex:
      case EventType::kEscape:
        out.push_back(e.type == EventType::kSysex ? 0xF0 : 0xF7);
        put_vlq(out, checked_length(e.data.size(), index, i));
        out.insert(out.end(), e.data.begin(), e.data.end());
        running = 0;
        break;
    }
  }
  put_delta(std::max(track.end_tick, previous), track.events.size());
  out.insert(out.end(), {0xFF, meta::kEndOfTrack, 0x00});
  const size_t length = out.size() - length_at - 4;
  if (length > 0xFFFFFFFFu) reject(index, 0, "track longer than 4 GiB");
  for (int b = 0; b < 4; ++b) out[length_at + b] = static_cast<uint8_t>(length >> (24 - 8 * b));
}

}  // namespace

std::vector<uint8_t> encode_midi(const MidiFile& file, const WriteOptions& options) {
  if (file.format < 0 || file.format > 2) {
    throw std::invalid_argument("cannot write MIDI: format " + std::to_string(file.format));
  }
  if (file.format == 0 && file.tracks.size() != 1) {
    throw std::invalid_argument("cannot write MIDI: a format-0 file has exactly one track, not " +
                                std::to_string(file.tracks.size()) + " (merge_to_format0)");
  }
  if (file.tracks.size() > 0xFFFF) throw std::invalid_argument("cannot write MIDI: too many tracks");
  if (!file.division.is_smpte() && file.division.raw == 0) {
    throw std::invalid_argument("cannot write MIDI: division of 0 ticks per quarter");
  }
  size_t estimate = 14;
  for (const Track& t : file.tracks) estimate += 12 + t.events.size() * 4;
  std::vector<uint8_t> out;
  out.reserve(estimate);
  out.insert(out.end(), {'M', 'T', 'h', 'd'});
  put_be32(out, 6);
  put_be16(out, static_cast<uint16_t>(file.format));
  put_be16(out, static_cast<uint16_t>(file.tracks.size()));
  put_be16(out, file.division.raw);
  for (size_t i = 0; i < file.tracks.size(); ++i) encode_track(out, file.tracks[i], i, options);
  return out;
}

void write_midi_file(const std::string& path, const MidiFile& file, const WriteOptions& options) {
  io::write_file_atomically(path, encode_midi(file, options));
}

MidiFile merge_to_format0(const MidiFile& file) {
  MidiFile merged;
  merged.format = 0;
  merged.division = file.division;
  Track& out = merged.tracks.emplace_back();
  size_t total = 0;
  for (const Track& t : file.tracks) {
    total += t.events.size();
    out.end_tick = std::max(out.end_tick, t.end_tick);
  }
  out.events.reserve(total);
  for (size_t i = 0; i < file.tracks.size(); ++i) {
    for (const Event& e : file.tracks[i].events) {
      if (i > 0 && e.is_meta(meta::kTrackName)) continue;
      out.events.push_back(e);
    }
  }
  // Each track is already in tick order, so a stable sort keeps track order, then file order.
  std::stable_sort(out.events.begin(), out.events.end(),
                   [](const Event& a, const Event& b) { return a.tick < b.tick; });
  return merged;
}

}  // namespace bachgen::midi
