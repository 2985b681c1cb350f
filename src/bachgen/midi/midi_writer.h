// Writing MidiFile as a Standard MIDI File (format 0, 1 or 2), and merging tracks into the
// single track of a format-0 file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/midi/midi_file.h"

namespace bachgen::midi {

struct WriteOptions {
  bool running_status = true;  // omit repeated status bytes of channel messages
};

// Encodes the file. Throws std::invalid_argument naming the track and event for a model that
// cannot be written (format 0 with other than one track, ticks going backwards, a delta or a
// payload larger than a variable-length quantity holds, a bad status byte, more than 65535
// tracks). The End-of-Track event is written at max(end_tick, last event tick).
std::vector<uint8_t> encode_midi(const MidiFile& file, const WriteOptions& options = {});

// Encodes and writes atomically (temp file + rename). Throws std::runtime_error on I/O errors.
void write_midi_file(const std::string& path, const MidiFile& file,
                     const WriteOptions& options = {});

// All tracks merged into one, as format 0: events ordered by tick, ties kept in track order
// and then file order. Track-name events of tracks after the first are dropped (a format-0
// file has one name); the end tick is the latest of all tracks.
MidiFile merge_to_format0(const MidiFile& file);

}  // namespace bachgen::midi
