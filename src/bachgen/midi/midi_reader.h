// Reading Standard MIDI Files (formats 0, 1, 2; also the RIFF "RMID" wrapper) into MidiFile.
// Strict where a broken rule would change the music, lenient (with a ReadWarning) where
// real-world files commonly break it; docs/midi.md lists every leniency.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bachgen/midi/midi_file.h"

namespace bachgen::midi {

// Files larger than this are rejected before they are read, so memory stays bounded.
inline constexpr size_t kMaxMidiFileBytes = size_t{256} << 20;

// Parses a whole file held in memory. `source_name` names the file in errors and warnings.
// Throws MidiError. Warnings, if asked for, receive every leniency that was applied.
MidiFile parse_midi(const uint8_t* bytes, size_t size, std::string_view source_name,
                    std::vector<ReadWarning>* warnings = nullptr);

inline MidiFile parse_midi(const std::vector<uint8_t>& bytes, std::string_view source_name,
                           std::vector<ReadWarning>* warnings = nullptr) {
  return parse_midi(bytes.data(), bytes.size(), source_name, warnings);
}

// Reads and parses a file from disk. Throws MidiError (also for I/O errors, at offset 0).
MidiFile read_midi_file(const std::string& path, std::vector<ReadWarning>* warnings = nullptr);

}  // namespace bachgen::midi
