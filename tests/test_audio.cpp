// Audio out in process (libfluidsynth): a one-chord MIDI file becomes 16-bit stereo samples of
// the right rate and length with sound in them, encoded as a WAV whose header we check field
// by field, or a FLAC; the synthesizer resets between renders (the same bytes give the same
// samples); bad input names the problem and leaves nothing.
#include "bachgen/render/audio.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "bachgen/io/files.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/music/score.h"

namespace bachgen::render {
namespace {

std::string chord_midi() {
  music::ChoraleGrid g;
  for (int t = 0; t < 8; ++t) g.pitches.push_back({72, 67, 64, 48});  // 8 sixteenths at 120 bpm: 1 s
  const std::vector<uint8_t> bytes = midi::encode_midi(music::score_to_midi(music::grid_to_score(g)));
  return std::string(bytes.begin(), bytes.end());
}

uint32_t u32(const std::string& b, size_t at) {
  const auto u = [&b](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(b[i])); };
  return u(at) | u(at + 1) << 8 | u(at + 2) << 16 | u(at + 3) << 24;
}
uint16_t u16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}

TEST(Audio, SamplesOfTheRightShapeWithSoundInThem) {
  Synthesizer synth;
  const AudioSamples a = synth.render(chord_midi());
  EXPECT_EQ(a.sample_rate, 44100);
  EXPECT_EQ(a.channels, 2);
  EXPECT_GE(a.frames(), 44100u);  // the second of music
  EXPECT_LT(a.frames(), 44100u * 5);
  int peak = 0;
  for (int16_t s : a.samples) peak = std::max(peak, std::abs(static_cast<int>(s)));
  EXPECT_GT(peak, 1000);
  // Nothing carries over from one render to the next: the same file gives the same samples.
  EXPECT_EQ(synth.render(chord_midi()).samples, a.samples);

  const std::string wav = encode_audio(a, AudioFormat::kWav);
  ASSERT_EQ(wav.size(), 44 + a.samples.size() * 2);
  EXPECT_EQ(wav.compare(0, 4, "RIFF"), 0);
  EXPECT_EQ(u32(wav, 4), wav.size() - 8);
  EXPECT_EQ(wav.compare(8, 8, "WAVEfmt "), 0);
  EXPECT_EQ(u32(wav, 16), 16u);
  EXPECT_EQ(u16(wav, 20), 1);        // PCM
  EXPECT_EQ(u16(wav, 22), 2);        // stereo
  EXPECT_EQ(u32(wav, 24), 44100u);   // rate
  EXPECT_EQ(u32(wav, 28), 44100u * 4);
  EXPECT_EQ(u16(wav, 32), 4);
  EXPECT_EQ(u16(wav, 34), 16);       // bits
  EXPECT_EQ(wav.compare(36, 4, "data"), 0);
  EXPECT_EQ(u32(wav, 40), a.samples.size() * 2);
  EXPECT_EQ(static_cast<int16_t>(u16(wav, 44 + 2000)), a.samples[1000]);

  const std::string flac = encode_audio(a, AudioFormat::kFlac);
  ASSERT_GT(flac.size(), 4u);
  EXPECT_EQ(flac.compare(0, 4, "fLaC"), 0);
  EXPECT_LT(flac.size(), wav.size());
  EXPECT_THROW(encode_audio(a, AudioFormat::kNone), std::invalid_argument);
}

TEST(Audio, FormatsByNameAndClearErrors) {
  EXPECT_EQ(parse_audio_format("wav"), AudioFormat::kWav);
  EXPECT_EQ(parse_audio_format("flac"), AudioFormat::kFlac);
  EXPECT_EQ(parse_audio_format("none"), AudioFormat::kNone);
  EXPECT_STREQ(audio_format_name(AudioFormat::kFlac), "flac");
  EXPECT_THROW(parse_audio_format("mp3"), std::invalid_argument);
  AudioOptions o;
  o.soundfont = "/no/such.sf2";
  try {
    Synthesizer synth(o);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such.sf2"), std::string::npos) << e.what();
  }
  // Bytes that are not MIDI: refused by our own reader, naming the problem.
  Synthesizer synth;
  EXPECT_THROW(synth.render("not a midi file"), std::runtime_error);
  // Music past the limit stops with a clear error.
  try {
    synth.render(chord_midi(), /*max_seconds=*/0.1);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("audio limit"), std::string::npos) << e.what();
  }
  // A file written is whole: write_audio_file goes through a temp file and a rename.
  const std::string out = std::string(BACHGEN_TEST_TMP) + "/chord.wav";
  write_audio_file(out, synth.render(chord_midi()), AudioFormat::kWav);
  EXPECT_GT(io::read_file_bytes(out, 1 << 26).size(), 44u);
  EXPECT_THROW(write_audio_file("/no/such/folder/x.wav", synth.render(chord_midi()), AudioFormat::kWav), std::runtime_error);
}

}  // namespace
}  // namespace bachgen::render
