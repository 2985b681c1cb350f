// The performance event vocabulary of Oore et al. (2018) and the Music Transformer: 128
// note-on, 128 note-off, 100 time shifts (10 ms .. 1 s) and 32 velocity bins, in Magenta's
// order, then PAD, BOS and EOS. Tracks are merged (the vocabulary has no voices); the sustain
// pedal (CC64) lengthens notes as Magenta does. Ids: docs/data.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/midi/midi_file.h"

namespace bachgen::tokenize {

struct PerformanceVocab {
  static constexpr const char* kName = "performance388";
  static constexpr int32_t kNoteOn = 0;       // + pitch (0..127)
  static constexpr int32_t kNoteOff = 128;    // + pitch
  static constexpr int32_t kTimeShift = 256;  // + (steps - 1), steps 1..100
  static constexpr int32_t kVelocity = 356;   // + (bin - 1), bins 1..32
  static constexpr int32_t kPad = 388;
  static constexpr int32_t kBos = 389;
  static constexpr int32_t kEos = 390;
  static constexpr int32_t kSize = 391;
  static constexpr int kStepsPerSecond = 100;  // one time-shift step is 10 ms
  static constexpr int kMaxShiftSteps = 100;
  static constexpr int kVelocityBins = 32;
  static constexpr int kVelocityBinSize = 4;  // ceil(127 / 32): bin b covers 4b-3 .. 4b
  static_assert(kVelocity + kVelocityBins == 388, "the classic 388 events come first");
  static_assert(kEos + 1 == kSize);

  static constexpr int velocity_bin(int velocity) {  // 1..32
    return velocity < 1 ? 1 : velocity > 127 ? kVelocityBins : (velocity - 1) / kVelocityBinSize + 1;
  }
  static constexpr int bin_velocity(int bin) { return 1 + (bin - 1) * kVelocityBinSize; }
};

// A note in seconds, as the performance vocabulary sees it (no voice, no channel).
struct PerformanceNote {
  int pitch = 60;
  double start = 0;  // seconds
  double end = 0;
  int velocity = 64;
  friend bool operator==(const PerformanceNote& a, const PerformanceNote& b) {
    return a.pitch == b.pitch && a.start == b.start && a.end == b.end && a.velocity == b.velocity;
  }
};

struct PerformanceOptions {
  bool sustain = true;  // apply CC64 as Magenta does
};

// All notes of all tracks in seconds (through the file's tempo map), sustain applied, sorted by
// (start, pitch, end).
std::vector<PerformanceNote> performance_notes(const midi::MidiFile& file,
                                               const PerformanceOptions& options = {});

struct PerformanceEncodeOptions {
  bool bos = true;
  bool eos = true;
};

// Notes -> tokens. Times are quantized to 10 ms steps (rounded); a note shorter than a step
// keeps one step. At one step, note-offs come before note-ons, each in pitch order; a velocity
// token precedes a note-on whose bin differs from the last one; gaps over 1 s become several
// shifts.
std::vector<int32_t> encode_performance(const std::vector<PerformanceNote>& notes,
                                        const PerformanceEncodeOptions& options = {});

struct PerformanceDecodeStats {
  int lone_note_offs = 0;  // a note-off with no sounding note of that pitch: ignored
  int unended_notes = 0;   // still sounding at the end: ended there (at least one step long)
};

// Tokens -> notes (sorted by start, pitch, end). A note-off ends the oldest sounding note of
// its pitch. PAD and BOS are skipped; decoding stops at EOS. Throws std::invalid_argument for
// an id outside the vocabulary.
std::vector<PerformanceNote> decode_performance(const std::vector<int32_t>& tokens,
                                                PerformanceDecodeStats* stats = nullptr);

// Notes as a format-1 MIDI file: a conductor track, one piano track on channel 0, 480 ticks per
// quarter at 125 bpm so that one tick is exactly 1 ms.
midi::MidiFile performance_to_midi(const std::vector<PerformanceNote>& notes);

std::string performance_token_name(int32_t token);  // "ON60", "OFF60", "SHIFT10", "VEL16", ...

}  // namespace bachgen::tokenize
