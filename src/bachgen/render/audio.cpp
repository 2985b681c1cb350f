// Audio through libfluidsynth, encoded as WAV (here) or FLAC (libsndfile).
#include "bachgen/render/audio.h"

#include <fluidsynth.h>
#include <sndfile.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"

namespace bachgen::render {

namespace {

// FluidSynth reports through one process-wide log function: errors and warnings go to the
// calling thread's buffer (the synth runs on the caller's thread), the rest is dropped.
thread_local std::string fluid_messages;

void keep_message(int, const char* message, void*) {
  if (message == nullptr) return;
  if (!fluid_messages.empty()) fluid_messages += "; ";
  fluid_messages += message;
}

void drop_message(int, const char*, void*) {}

void install_log_functions() {
  static std::once_flag once;
  std::call_once(once, [] {
    fluid_set_log_function(FLUID_PANIC, keep_message, nullptr);
    fluid_set_log_function(FLUID_ERR, keep_message, nullptr);
    fluid_set_log_function(FLUID_WARN, drop_message, nullptr);
    fluid_set_log_function(FLUID_INFO, drop_message, nullptr);
    fluid_set_log_function(FLUID_DBG, drop_message, nullptr);
  });
}

std::string take_messages() {
  std::string m = std::move(fluid_messages);
  fluid_messages.clear();
  return m.empty() ? "" : ": " + m;
}

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

std::string encode_wav(const AudioSamples& a) {
  const auto data_bytes = static_cast<uint32_t>(a.samples.size() * 2);
  std::string out;
  out.reserve(44 + data_bytes);
  out += "RIFF";
  put_u32(out, 36 + data_bytes);
  out += "WAVEfmt ";
  put_u32(out, 16);
  put_u16(out, 1);  // PCM
  put_u16(out, static_cast<uint16_t>(a.channels));
  put_u32(out, static_cast<uint32_t>(a.sample_rate));
  put_u32(out, static_cast<uint32_t>(a.sample_rate * a.channels * 2));
  put_u16(out, static_cast<uint16_t>(a.channels * 2));
  put_u16(out, 16);
  out += "data";
  put_u32(out, data_bytes);
  for (int16_t s : a.samples) put_u16(out, static_cast<uint16_t>(s));
  return out;
}

// libsndfile writing into a string through its virtual I/O.
struct MemoryFile {
  std::string bytes;
  sf_count_t position = 0;
};
sf_count_t mem_length(void* user) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->bytes.size()); }
sf_count_t mem_seek(sf_count_t offset, int whence, void* user) {
  MemoryFile* f = static_cast<MemoryFile*>(user);
  const sf_count_t base = whence == SEEK_CUR ? f->position : whence == SEEK_END ? static_cast<sf_count_t>(f->bytes.size()) : 0;
  f->position = std::max<sf_count_t>(0, base + offset);
  return f->position;
}
sf_count_t mem_read(void* out, sf_count_t count, void* user) {
  MemoryFile* f = static_cast<MemoryFile*>(user);
  const sf_count_t size = static_cast<sf_count_t>(f->bytes.size());
  const sf_count_t n = std::max<sf_count_t>(0, std::min(count, size - f->position));
  if (n > 0) std::memcpy(out, f->bytes.data() + f->position, static_cast<size_t>(n));
  f->position += n;
  return n;
}
sf_count_t mem_write(const void* in, sf_count_t count, void* user) {
  MemoryFile* f = static_cast<MemoryFile*>(user);
  const size_t end = static_cast<size_t>(f->position + count);
  if (f->bytes.size() < end) f->bytes.resize(end);
  std::memcpy(&f->bytes[static_cast<size_t>(f->position)], in, static_cast<size_t>(count));
  f->position += count;
  return count;
}
sf_count_t mem_tell(void* user) { return static_cast<MemoryFile*>(user)->position; }

std::string encode_flac(const AudioSamples& a) {
  SF_VIRTUAL_IO io{mem_length, mem_seek, mem_read, mem_write, mem_tell};
  MemoryFile file;
  SF_INFO info{};
  info.samplerate = a.sample_rate;
  info.channels = a.channels;
  info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  SNDFILE* sf = sf_open_virtual(&io, SFM_WRITE, &info, &file);
  if (sf == nullptr) throw std::runtime_error(std::string("cannot encode FLAC: ") + sf_strerror(nullptr));
  const sf_count_t written = sf_write_short(sf, a.samples.data(), static_cast<sf_count_t>(a.samples.size()));
  const std::string error = written == static_cast<sf_count_t>(a.samples.size()) ? "" : sf_strerror(sf);
  sf_close(sf);
  if (!error.empty()) throw std::runtime_error("cannot encode FLAC: " + error);
  return file.bytes;
}

}  // namespace

AudioFormat parse_audio_format(const std::string& name) {
  if (name == "wav") return AudioFormat::kWav;
  if (name == "flac") return AudioFormat::kFlac;
  if (name == "none") return AudioFormat::kNone;
  throw std::invalid_argument("the audio format is wav, flac or none, not '" + name + "'");
}

const char* audio_format_name(AudioFormat format) {
  switch (format) {
    case AudioFormat::kNone: return "none";
    case AudioFormat::kWav: return "wav";
    case AudioFormat::kFlac: return "flac";
  }
  return "?";
}

std::string find_soundfont(const std::string& requested) {
  if (!requested.empty()) {
    if (!io::is_regular_file(requested)) throw std::runtime_error(requested + ": no such soundfont file");
    return requested;
  }
  if (const char* env = std::getenv("BACHGEN_SOUNDFONT"); env != nullptr && *env != '\0') {
    if (!io::is_regular_file(env)) throw std::runtime_error(std::string(env) + " (BACHGEN_SOUNDFONT): no such soundfont file");
    return env;
  }
  for (const char* candidate : {"/usr/share/sounds/sf2/TimGM6mb.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
                                "/usr/share/sounds/sf2/FluidR3_GM.sf2"}) {
    if (io::is_regular_file(candidate)) return candidate;
  }
  throw std::runtime_error(
      "no General MIDI soundfont found (apt install timgm6mb-soundfont, or set BACHGEN_SOUNDFONT=FILE.sf2)");
}

// One FluidSynth instance: settings, synthesizer and the soundfont loaded.
struct FluidInstance {
  fluid_settings_t* settings = nullptr;
  fluid_synth_t* synth = nullptr;
  FluidInstance(const std::string& soundfont, const AudioOptions& o) {
    take_messages();
    settings = new_fluid_settings();
    if (settings == nullptr) throw std::runtime_error("FluidSynth: cannot make its settings" + take_messages());
    fluid_settings_setnum(settings, "synth.sample-rate", o.sample_rate);
    fluid_settings_setnum(settings, "synth.gain", o.gain);
    fluid_settings_setint(settings, "synth.lock-memory", 0);
    // The player advances with the samples rendered, not with the wall clock: faster than real time.
    fluid_settings_setstr(settings, "player.timing-source", "sample");
    synth = new_fluid_synth(settings);
    if (synth == nullptr) {
      delete_fluid_settings(settings);
      throw std::runtime_error("FluidSynth: cannot start the synthesizer" + take_messages());
    }
    if (fluid_synth_sfload(synth, soundfont.c_str(), 1) == FLUID_FAILED) {
      const std::string why = take_messages();
      delete_fluid_synth(synth);
      delete_fluid_settings(settings);
      throw std::runtime_error(soundfont + ": FluidSynth cannot load this soundfont" + why);
    }
  }
  ~FluidInstance() {
    delete_fluid_synth(synth);
    delete_fluid_settings(settings);
  }
  FluidInstance(const FluidInstance&) = delete;
  FluidInstance& operator=(const FluidInstance&) = delete;
};

struct Synthesizer::State {
  std::string soundfont;
  AudioOptions options;
};

Synthesizer::Synthesizer(const AudioOptions& o) : state_(std::make_unique<State>()) {
  install_log_functions();
  state_->soundfont = find_soundfont(o.soundfont);
  state_->options = o;
  FluidInstance check(state_->soundfont, o);  // a soundfont FluidSynth cannot load is refused here, not at the first render
}

Synthesizer::~Synthesizer() = default;

const std::string& Synthesizer::soundfont() const { return state_->soundfont; }

AudioSamples Synthesizer::render(const std::string& midi_bytes, double max_seconds) {
  // FluidSynth takes any bytes and plays nothing from junk: our reader names the damage first.
  midi::parse_midi(reinterpret_cast<const uint8_t*>(midi_bytes.data()), midi_bytes.size(), "the MIDI file");
  // A fresh instance per render (26 ms on the reference machine, the soundfont included): a
  // reused synthesizer keeps its clock and LFO phases, so the same file would sound a little
  // different each time; this way the audio depends on the MIDI bytes alone.
  FluidInstance fluid(state_->soundfont, state_->options);
  fluid_player_t* player = new_fluid_player(fluid.synth);
  if (player == nullptr) throw std::runtime_error("FluidSynth: cannot make a MIDI player" + take_messages());
  struct PlayerGuard {
    fluid_player_t* p;
    ~PlayerGuard() {
      fluid_player_stop(p);
      delete_fluid_player(p);
    }
  } guard{player};
  if (fluid_player_add_mem(player, midi_bytes.data(), midi_bytes.size()) != FLUID_OK || fluid_player_play(player) != FLUID_OK) {
    throw std::runtime_error("FluidSynth cannot play this MIDI file" + take_messages());
  }
  AudioSamples out;
  out.sample_rate = state_->options.sample_rate;
  constexpr int kBlock = 1024;  // frames per call
  const auto max_frames = static_cast<size_t>(max_seconds * out.sample_rate);
  std::vector<int16_t> block(2 * kBlock);
  while (fluid_player_get_status(player) == FLUID_PLAYER_PLAYING) {
    if (fluid_synth_write_s16(fluid.synth, kBlock, block.data(), 0, 2, block.data(), 1, 2) != FLUID_OK) {
      throw std::runtime_error("FluidSynth failed while rendering" + take_messages());
    }
    out.samples.insert(out.samples.end(), block.begin(), block.end());
    if (out.frames() > max_frames) {
      throw std::runtime_error("the music lasts longer than the audio limit of " + std::to_string(static_cast<long long>(max_seconds)) + " s");
    }
  }
  take_messages();
  return out;
}

std::string encode_audio(const AudioSamples& samples, AudioFormat format) {
  switch (format) {
    case AudioFormat::kWav: return encode_wav(samples);
    case AudioFormat::kFlac: return encode_flac(samples);
    case AudioFormat::kNone: break;
  }
  throw std::invalid_argument("no audio format to encode (none)");
}

void write_audio_file(const std::string& path, const AudioSamples& samples, AudioFormat format) {
  std::string bytes;
  try {
    bytes = encode_audio(samples, format);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  io::write_file_atomically(path, bytes);
}

}  // namespace bachgen::render
