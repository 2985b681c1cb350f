// The studio's JSON API requests: each body is parsed and every field checked (type, range,
// length, upload size) before any work starts; a bad one throws RequestError naming the field
// and why. Unknown fields are refused too, so a misspelt option never passes silently.
// Torch-free; docs/studio.md lists every field.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "bachgen/music/chorale_grid.h"
#include "bachgen/music/voice_leading.h"

namespace bachgen::serve {

// 400: `field` is the JSON path ("top_p", "melody.data"); empty for the body as a whole.
struct RequestError : std::invalid_argument {
  RequestError(std::string field_name, const std::string& message)
      : std::invalid_argument(message), field(std::move(field_name)) {}
  std::string field;
};

struct StudioLimits {
  int64_t max_bars = 32;               // compose length, and the longest melody (in 4/4 bars)
  size_t max_notes_text = 4096;        // characters of note text
  size_t max_upload_bytes = 1 << 20;   // a MIDI or MusicXML file, decoded
  double time_limit_seconds = 60;      // per generation
};

struct SamplingFields {
  double temperature = 1.0;            // 0 .. 5 (0 = greedy)
  int top_k = 0;                       // 0 .. 1000 (0 = all)
  double top_p = 1.0;                  // (0, 1]
  uint64_t seed = 1;                   // 0 .. 2^53 - 1 (exact in JavaScript)
  music::VoiceLeading voice_leading = music::VoiceLeading::kStrict;
};

// How harmonize and infill draw (generate/infill.h): "" for the harmonizer's default.
struct SamplerFields {
  std::string sampler;                 // "" | "ancestral" | "gibbs"
  int64_t iterations = 0;              // 0 .. 4096 (Gibbs; 0 = one per step with a note to draw)
  double final_temperature = -1;       // 0 .. 5 (Gibbs; 0 = constant); -1 = the harmonizer's default
  double hold_temperature = -1;        // 0 .. 5 (0 = no hold split); -1 = the harmonizer's default
  std::string rhythm;                  // "" | "eighths" | "sixteenths" (generate/harmonizer.h)
  std::string cadence;                 // "" | "tonic" | "free" (harmonize; infill ignores it)
  int64_t candidates = 0;              // 0 .. 8: drawn side by side, one kept (0 = the harmonizer's default)
  std::string critic;                  // "" | "consensus" | "model" (generate/harmonizer.h)
};

struct UploadedFile {
  std::string name;                    // as the user's file was called (no path)
  std::string format;                  // mid | musicxml | mxl (from the name's extension)
  std::string bytes;                   // decoded
  bool empty() const { return bytes.empty(); }
};

struct ComposeRequest {
  SamplingFields sampling;
  int64_t bars = 8;
  double tempo = 80;                   // 30 .. 240 quarter notes per minute
  std::string key;                     // "" or e.g. "D minor"
  std::string primer_result;           // continue a stored result ...
  UploadedFile primer_file;            // ... or an uploaded MIDI file
  int64_t primer_steps = 16;           // of the primer, in 16ths (0 = all of it)
};

struct HarmonizeRequest {
  SamplingFields sampling;
  SamplerFields sampler;
  std::string notes;                   // the note text, or
  UploadedFile melody;                 // an uploaded MIDI or MusicXML melody
  double tempo = 0;                    // 0 = the melody's own, else 80
  bool transpose_auto = false;         // "transpose": "off" | "auto" (generate/harmonizer.h)
};

struct InfillRequest {
  SamplingFields sampling;
  SamplerFields sampler;
  std::string result;                  // the stored result to redraw
  int64_t first_bar = 1, last_bar = 1; // 1-based, inclusive
  std::string voices = "ATB";          // any of S, A, T, B, each at most once
};

// Request bodies nest at most this deep (the page's deepest is 2); deeper is refused before
// the JSON parser, which recurses per level, runs.
inline constexpr int kMaxJsonDepth = 16;

ComposeRequest parse_compose_request(const std::string& body, const StudioLimits& limits);
HarmonizeRequest parse_harmonize_request(const std::string& body, const StudioLimits& limits);
InfillRequest parse_infill_request(const std::string& body, const StudioLimits& limits);

// Standard base64 (RFC 4648, padding optional, no line breaks); throws RequestError(field).
std::string decode_base64(const std::string& text, const std::string& field);
// And back, padded (what clients send: the tests, the load benchmark).
std::string encode_base64(const std::string& bytes);

}  // namespace bachgen::serve
