// Event constructors, meta-event decoders and the error type of the MIDI model.
#include "bachgen/midi/midi_file.h"

#include <algorithm>

namespace bachgen::midi {

namespace {
uint8_t clamp7(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 127)); }
}  // namespace

Event Event::channel_message(int64_t tick, uint8_t status, uint8_t data1, uint8_t data2) {
  Event e;
  e.tick = tick;
  e.type = EventType::kChannel;
  e.status = status;
  e.data1 = data1 & 0x7F;
  e.data2 = channel_data_length(status) == 2 ? (data2 & 0x7F) : 0;
  return e;
}

Event Event::note_on(int64_t tick, int channel, int pitch, int velocity) {
  return channel_message(tick, static_cast<uint8_t>(command::kNoteOn | (channel & 0x0F)),
                         clamp7(pitch), clamp7(velocity));
}

Event Event::note_off(int64_t tick, int channel, int pitch, int velocity) {
  return channel_message(tick, static_cast<uint8_t>(command::kNoteOff | (channel & 0x0F)),
                         clamp7(pitch), clamp7(velocity));
}

Event Event::program_change(int64_t tick, int channel, int program) {
  return channel_message(tick, static_cast<uint8_t>(command::kProgramChange | (channel & 0x0F)),
                         clamp7(program));
}

Event Event::control_change(int64_t tick, int channel, int controller, int value) {
  return channel_message(tick, static_cast<uint8_t>(command::kControlChange | (channel & 0x0F)),
                         clamp7(controller), clamp7(value));
}

Event Event::meta_event(int64_t tick, uint8_t meta_type, std::vector<uint8_t> payload) {
  Event e;
  e.tick = tick;
  e.type = EventType::kMeta;
  e.status = meta_type;
  e.data = std::move(payload);
  return e;
}

Event Event::text_event(int64_t tick, uint8_t meta_type, std::string_view text) {
  return meta_event(tick, meta_type, std::vector<uint8_t>(text.begin(), text.end()));
}

Event Event::tempo(int64_t tick, uint32_t us) {
  return meta_event(tick, meta::kTempo,
                    {static_cast<uint8_t>(us >> 16), static_cast<uint8_t>(us >> 8),
                     static_cast<uint8_t>(us)});
}

Event Event::time_signature(int64_t tick, int numerator, int denominator, int clocks_per_click,
                            int thirty_seconds_per_quarter) {
  int power = 0;
  while ((1 << power) < denominator && power < 31) ++power;
  return meta_event(tick, meta::kTimeSignature,
                    {static_cast<uint8_t>(numerator), static_cast<uint8_t>(power),
                     static_cast<uint8_t>(clocks_per_click),
                     static_cast<uint8_t>(thirty_seconds_per_quarter)});
}

Event Event::key_signature(int64_t tick, int sharps_flats, bool minor) {
  return meta_event(tick, meta::kKeySignature,
                    {static_cast<uint8_t>(static_cast<int8_t>(sharps_flats)),
                     static_cast<uint8_t>(minor ? 1 : 0)});
}

std::optional<uint32_t> decode_tempo(const Event& e) {
  if (!e.is_meta(meta::kTempo) || e.data.size() < 3) return std::nullopt;
  return (uint32_t{e.data[0]} << 16) | (uint32_t{e.data[1]} << 8) | uint32_t{e.data[2]};
}

std::optional<TimeSignature> decode_time_signature(const Event& e) {
  if (!e.is_meta(meta::kTimeSignature) || e.data.size() < 2) return std::nullopt;
  TimeSignature ts;
  ts.numerator = e.data[0];
  // Powers above 30 cannot be a real denominator; keep the value representable.
  ts.denominator = 1 << std::min<int>(e.data[1], 30);
  if (e.data.size() >= 4) {
    ts.clocks_per_click = e.data[2];
    ts.thirty_seconds_per_quarter = e.data[3];
  }
  return ts;
}

std::optional<KeySignature> decode_key_signature(const Event& e) {
  if (!e.is_meta(meta::kKeySignature) || e.data.size() < 2) return std::nullopt;
  return KeySignature{static_cast<int8_t>(e.data[0]), e.data[1] != 0};
}

std::string KeySignature::name() const {
  static const char* const kMajor[15] = {"C-flat", "G-flat", "D-flat", "A-flat", "E-flat",
                                         "B-flat", "F",      "C",      "G",      "D",
                                         "A",      "E",      "B",      "F-sharp", "C-sharp"};
  static const char* const kMinor[15] = {"A-flat", "E-flat", "B-flat", "F",      "C",
                                         "G",      "D",      "A",      "E",      "B",
                                         "F-sharp", "C-sharp", "G-sharp", "D-sharp", "A-sharp"};
  if (sharps_flats < -7 || sharps_flats > 7) return "?";
  return std::string(minor ? kMinor[sharps_flats + 7] : kMajor[sharps_flats + 7]) +
         (minor ? " minor" : " major");
}

std::string event_text(const Event& e) { return std::string(e.data.begin(), e.data.end()); }

std::string Track::name() const {
  for (const Event& e : events) {
    if (e.is_meta(meta::kTrackName)) return event_text(e);
  }
  return "";
}

double Division::smpte_ticks_per_second() const {
  if (!is_smpte()) return 0.0;
  const int fps = smpte_fps();
  const double frames_per_second = fps == 29 ? 30000.0 / 1001.0 : fps;
  return frames_per_second * ticks_per_frame();
}

MidiError::MidiError(std::string file, size_t offset, std::string problem)
    : std::runtime_error(offset == kNoOffset
                             ? file + ": " + problem
                             : file + ": byte " + std::to_string(offset) + ": " + problem),
      file_(std::move(file)),
      offset_(offset),
      problem_(std::move(problem)) {}

}  // namespace bachgen::midi
