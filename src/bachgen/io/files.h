// Whole-file reads with a size limit, and atomic writes (temp file, fsync, rename) so that
// an interrupted program never leaves a half-written output file behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bachgen::io {

// Reads a whole file. Throws std::runtime_error naming the problem (not found, not a regular
// file, larger than max_bytes, read error); the caller adds the file name.
std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes);

// Writes `size` bytes to `path` atomically: into a temporary file beside it, fsync, then rename
// over `path`. On failure the temporary file is removed, `path` is left as it was, and a
// std::runtime_error naming the file and the problem is thrown.
void write_file_atomically(const std::string& path, const void* data, size_t size);
inline void write_file_atomically(const std::string& path, std::string_view text) {
  write_file_atomically(path, text.data(), text.size());
}
inline void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  write_file_atomically(path, bytes.data(), bytes.size());
}

// The files under `dir` whose names end in one of `suffixes` (case-insensitive), as paths
// relative to `dir`, sorted; descends into sub-folders when `recursive`. Throws
// std::runtime_error naming a folder that cannot be opened.
std::vector<std::string> list_files(const std::string& dir, const std::vector<std::string>& suffixes,
                                    bool recursive = false);

// Whether `name` ends in one of `suffixes` (case-insensitive) with something before it.
bool ends_with_any(const std::string& name, const std::vector<std::string>& suffixes);
inline bool has_midi_extension(const std::string& path) { return ends_with_any(path, {".mid", ".midi"}); }

// MIDI files: names ending in .mid or .midi.
inline std::vector<std::string> list_midi_files(const std::string& dir, bool recursive = false) {
  return list_files(dir, {".mid", ".midi"}, recursive);
}

// Whether `path` names an existing regular file / folder (following symbolic links).
bool is_regular_file(const std::string& path);
bool is_directory(const std::string& path);

// Creates a folder and its missing parents (mkdir -p). Throws std::runtime_error naming the
// folder that could not be created and why.
void make_directories(const std::string& path);

}  // namespace bachgen::io
