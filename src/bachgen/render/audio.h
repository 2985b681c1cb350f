// Audio out, in process: libfluidsynth (Debian's libfluidsynth-dev) plays a Standard MIDI
// File's bytes through a General MIDI soundfont (Debian's timgm6mb-soundfont by default) into
// 16-bit stereo samples, which encode_audio turns into a WAV (our own header) or a FLAC
// (libsndfile, which libfluidsynth uses too). No program is run and no temp file is made;
// write_audio_file writes a temp file and renames it, so a file is complete or absent.
// Torch-free; docs/generation.md#audio.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bachgen::render {

// What a command or the studio writes beside the MIDI file.
enum class AudioFormat { kNone, kWav, kFlac };
AudioFormat parse_audio_format(const std::string& name);  // wav | flac | none; throws std::invalid_argument
const char* audio_format_name(AudioFormat format);         // "none", "wav", "flac" (the file extension)

struct AudioOptions {
  std::string soundfont;  // empty: $BACHGEN_SOUNDFONT, else Debian's GM soundfonts
  int sample_rate = 44100;
  double gain = 0.5;
};

struct AudioSamples {
  int sample_rate = 44100;
  int channels = 2;
  std::vector<int16_t> samples;  // interleaved L R L R ...
  size_t frames() const { return samples.size() / static_cast<size_t>(channels); }
};

// The soundfont to use: `requested` if given, else $BACHGEN_SOUNDFONT, else the first of
// /usr/share/sounds/sf2/{TimGM6mb,default-GM,FluidR3_GM}.sf2 that exists. Throws
// std::runtime_error saying how to get one.
std::string find_soundfont(const std::string& requested = "");

// FluidSynth with a soundfont, checked once at construction. Used by one thread at a time (each
// studio worker has its own). Each render() runs a fresh FluidSynth instance (26 ms on the
// reference machine), so a file's audio depends on its bytes alone: the same MIDI gives the
// same samples, whatever was rendered before.
class Synthesizer {
 public:
  // Throws std::runtime_error naming the soundfont and FluidSynth's complaint.
  explicit Synthesizer(const AudioOptions& options = {});
  ~Synthesizer();
  Synthesizer(const Synthesizer&) = delete;
  Synthesizer& operator=(const Synthesizer&) = delete;

  // Plays the MIDI file to its end (the notes' release tails are cut where the file ends, as
  // the `fluidsynth -F` program does). Throws std::runtime_error (midi::MidiError) for bytes
  // that are not a MIDI file, or music longer than `max_seconds`.
  AudioSamples render(const std::string& midi_bytes, double max_seconds = 3600);
  const std::string& soundfont() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The bytes of a WAV (RIFF, PCM 16-bit) or FLAC (16-bit) file of the samples.
// Throws std::invalid_argument for kNone, std::runtime_error when libsndfile fails.
std::string encode_audio(const AudioSamples& samples, AudioFormat format);

// Writes encode_audio's bytes to `path` atomically; throws std::runtime_error naming the file.
void write_audio_file(const std::string& path, const AudioSamples& samples, AudioFormat format);

}  // namespace bachgen::render
