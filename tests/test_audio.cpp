// Audio out through FluidSynth: a one-chord MIDI file becomes a 16-bit stereo WAV of the right
// rate and length with sound in it, or a FLAC; bad input names the problem and leaves nothing.
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
  const std::string path = std::string(BACHGEN_TEST_TMP) + "/chord.mid";
  midi::write_midi_file(path, music::score_to_midi(music::grid_to_score(g)));
  return path;
}

uint32_t u32(const std::vector<uint8_t>& b, size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}
uint16_t u16(const std::vector<uint8_t>& b, size_t at) { return static_cast<uint16_t>(b[at] | b[at + 1] << 8); }

TEST(Audio, WavOfTheRightShapeWithSoundInIt) {
  const std::string wav = std::string(BACHGEN_TEST_TMP) + "/chord.wav";
  render_audio(chord_midi(), wav);
  const std::vector<uint8_t> b = io::read_file_bytes(wav, 1 << 26);
  ASSERT_GT(b.size(), 44u);
  EXPECT_EQ(std::memcmp(b.data(), "RIFF", 4), 0);
  EXPECT_EQ(std::memcmp(b.data() + 8, "WAVEfmt ", 8), 0);
  EXPECT_EQ(u16(b, 20), 1);       // PCM
  EXPECT_EQ(u16(b, 22), 2);       // stereo
  EXPECT_EQ(u32(b, 24), 44100u);  // rate
  EXPECT_EQ(u16(b, 34), 16);      // bits
  // At least the second of music (FluidSynth adds the release tail after it).
  const size_t frames = (b.size() - 44) / 4;
  EXPECT_GE(frames, 44100u);
  EXPECT_LT(frames, 44100u * 5);
  int peak = 0;
  for (size_t i = 44; i + 1 < b.size(); i += 2) peak = std::max(peak, std::abs(static_cast<int16_t>(u16(b, i))));
  EXPECT_GT(peak, 1000);
}

TEST(Audio, FlacAndClearErrors) {
  const std::string flac = std::string(BACHGEN_TEST_TMP) + "/chord.flac";
  AudioOptions o;
  o.format = "flac";
  render_audio(chord_midi(), flac, o);
  const std::vector<uint8_t> b = io::read_file_bytes(flac, 1 << 26);
  ASSERT_GT(b.size(), 4u);
  EXPECT_EQ(std::memcmp(b.data(), "fLaC", 4), 0);
  const std::string out = std::string(BACHGEN_TEST_TMP) + "/never.wav";
  try {
    render_audio("/no/such.mid", out);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such.mid"), std::string::npos) << e.what();
  }
  o.format = "mp3";
  EXPECT_THROW(render_audio(chord_midi(), out, o), std::runtime_error);
  o.format = "wav";
  o.soundfont = "/no/such.sf2";
  try {
    render_audio(chord_midi(), out, o);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such.sf2"), std::string::npos) << e.what();
  }
  // A file that is not MIDI: FluidSynth's refusal, and no output left behind.
  const std::string junk = std::string(BACHGEN_TEST_TMP) + "/junk.mid";
  io::write_file_atomically(junk, std::string("not a midi file"));
  o.soundfont.clear();
  EXPECT_THROW(render_audio(junk, out, o), std::runtime_error);
  EXPECT_THROW(io::read_file_bytes(out, 100), std::runtime_error);
}

}  // namespace
}  // namespace bachgen::render
