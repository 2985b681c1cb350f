// The SMF reader: hand-assembled files, the VLQ table of the standard, every error with its
// byte offset, and every documented leniency with its warning.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "bachgen/midi/midi_reader.h"
#include "midi_bytes.h"

namespace bachgen::midi {
namespace {

using testing::Bytes;
using testing::operator+;
using testing::header;
using testing::kEndOfTrack;
using testing::track;

MidiFile parse(const Bytes& b, std::vector<ReadWarning>* w = nullptr) {
  return parse_midi(b, "test.mid", w);
}

TEST(MidiReader, ReadsAHandWrittenFormat0File) {
  const Bytes body = {
      0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,  // tempo 500000
      0x00, 0xC0, 0x05,                          // program change 5
      0x00, 0x90, 0x3C, 0x64,                    // note-on C4 vel 100
      0x60, 0x3C, 0x00,                          // +96, running status: note-on vel 0
      0x81, 0x00, 0x80, 0x3E, 0x40,              // +128, note-off D4 vel 64
      0x10, 0xFF, 0x2F, 0x00,                    // +16, end of track
  };
  const MidiFile f = parse(header(0, 1, 96) + track(body));
  EXPECT_EQ(f.format, 0);
  EXPECT_EQ(f.division.ticks_per_quarter(), 96);
  ASSERT_EQ(f.tracks.size(), 1u);
  const std::vector<Event> expected = {
      Event::tempo(0, 500000),
      Event::program_change(0, 0, 5),
      Event::note_on(0, 0, 60, 100),
      Event::channel_message(96, 0x90, 60, 0),
      Event::note_off(224, 0, 62, 64),
  };
  EXPECT_EQ(f.tracks[0].events, expected);
  EXPECT_EQ(f.tracks[0].end_tick, 240);
  EXPECT_TRUE(f.tracks[0].events[3].is_note_off());
  EXPECT_FALSE(f.tracks[0].events[3].is_note_on());
}

// The table of variable-length quantities from the Standard MIDI File specification.
TEST(MidiReader, DecodesTheSpecificationVlqTable) {
  const std::vector<std::pair<uint32_t, Bytes>> table = {
      {0x00000000, {0x00}},
      {0x00000040, {0x40}},
      {0x0000007F, {0x7F}},
      {0x00000080, {0x81, 0x00}},
      {0x00002000, {0xC0, 0x00}},
      {0x00003FFF, {0xFF, 0x7F}},
      {0x00004000, {0x81, 0x80, 0x00}},
      {0x00100000, {0xC0, 0x80, 0x00}},
      {0x001FFFFF, {0xFF, 0xFF, 0x7F}},
      {0x00200000, {0x81, 0x80, 0x80, 0x00}},
      {0x08000000, {0xC0, 0x80, 0x80, 0x00}},
      {0x0FFFFFFF, {0xFF, 0xFF, 0xFF, 0x7F}},
  };
  for (const auto& [value, vlq] : table) {
    const Bytes body = vlq + Bytes{0x90, 0x40, 0x40} + kEndOfTrack;
    const MidiFile f = parse(header(0, 1, 480) + track(body));
    ASSERT_EQ(f.tracks[0].events.size(), 1u);
    EXPECT_EQ(f.tracks[0].events[0].tick, static_cast<int64_t>(value)) << std::hex << value;
  }
}

TEST(MidiReader, ReadsSmpteDivision) {
  const MidiFile f = parse(header(0, 1, 0xE728) + track(kEndOfTrack));  // -25 fps, 40 ticks
  EXPECT_TRUE(f.division.is_smpte());
  EXPECT_EQ(f.division.smpte_fps(), 25);
  EXPECT_EQ(f.division.ticks_per_frame(), 40);
  EXPECT_DOUBLE_EQ(f.division.smpte_ticks_per_second(), 1000.0);
  const MidiFile drop = parse(header(0, 1, 0xE350) + track(kEndOfTrack));  // -29: 29.97 fps
  EXPECT_EQ(drop.division.smpte_fps(), 29);
  EXPECT_DOUBLE_EQ(drop.division.smpte_ticks_per_second(), 80 * 30000.0 / 1001.0);
}

TEST(MidiReader, ReadsFormat1And2WithEveryEventKind) {
  const Bytes t0 = Bytes{0x00, 0xFF, 0x03, 0x04, 'S', 'o', 'n', 'g'} +
                   Bytes{0x00, 0xFF, 0x58, 0x04, 0x03, 0x02, 0x18, 0x08} +  // 3/4
                   Bytes{0x00, 0xFF, 0x59, 0x02, 0xFE, 0x01} +              // 2 flats, minor
                   Bytes{0x00, 0xFF, 0x60, 0x02, 0xAB, 0xCD} +              // unknown meta
                   Bytes{0x05, 0xF0, 0x03, 0x7E, 0x01, 0xF7} +              // sysex
                   Bytes{0x00, 0xF7, 0x02, 0xF3, 0x01} +                    // escape
                   kEndOfTrack;
  const Bytes t1 = Bytes{0x00, 0xB1, 0x40, 0x7F,   // sustain on, channel 1
                         0x00, 0xA1, 0x3C, 0x20,   // poly aftertouch
                         0x00, 0xD1, 0x33,         // channel aftertouch
                         0x00, 0xE1, 0x00, 0x40,   // pitch bend centre
                         0x0A, 0xFF, 0x2F, 0x00};
  for (int format : {1, 2}) {
    const MidiFile f = parse(header(format, 2, 480) + track(t0) + track(t1));
    EXPECT_EQ(f.format, format);
    ASSERT_EQ(f.tracks.size(), 2u);
    EXPECT_EQ(f.tracks[0].name(), "Song");
    const auto ts = decode_time_signature(f.tracks[0].events[1]);
    ASSERT_TRUE(ts);
    EXPECT_EQ(ts->numerator, 3);
    EXPECT_EQ(ts->denominator, 4);
    const auto ks = decode_key_signature(f.tracks[0].events[2]);
    ASSERT_TRUE(ks);
    EXPECT_EQ(ks->name(), "G minor");
    EXPECT_EQ(f.tracks[0].events[3], Event::meta_event(0, 0x60, {0xAB, 0xCD}));
    EXPECT_EQ(f.tracks[0].events[4].type, EventType::kSysex);
    EXPECT_EQ(f.tracks[0].events[4].tick, 5);
    EXPECT_EQ(f.tracks[0].events[4].data, (std::vector<uint8_t>{0x7E, 0x01, 0xF7}));
    EXPECT_EQ(f.tracks[0].events[5].type, EventType::kEscape);
    EXPECT_EQ(f.tracks[0].end_tick, 5);
    const std::vector<Event> expected1 = {
        Event::control_change(0, 1, 64, 127), Event::channel_message(0, 0xA1, 0x3C, 0x20),
        Event::channel_message(0, 0xD1, 0x33), Event::channel_message(0, 0xE1, 0x00, 0x40)};
    EXPECT_EQ(f.tracks[1].events, expected1);
    EXPECT_EQ(f.tracks[1].end_tick, 10);
  }
}

struct BadFile {
  const char* what;
  Bytes bytes;
  size_t offset;
  const char* problem;  // a substring of the message
};

TEST(MidiReader, RejectsCorruptFilesNamingTheOffset) {
  const Bytes ok_header = header(0, 1, 480);  // 14 bytes; the track chunk body starts at 22
  const std::vector<BadFile> cases = {
      {"empty", {}, 0, "too short"},
      {"not midi", Bytes{'R', 'I', 'F', 'X'} + Bytes(20, 0), 0, "expected 'MThd'"},
      {"short header", Bytes{'M', 'T', 'h', 'd'} + testing::be32(4) + Bytes(8, 0), 4,
       "less than 6"},
      {"header past end", Bytes{'M', 'T', 'h', 'd'} + testing::be32(60) + Bytes(6, 1), 4,
       "past the end"},
      {"format 3", header(3, 1, 480), 8, "format 3"},
      {"division 0", header(0, 1, 0) + track(kEndOfTrack), 12, "division of 0"},
      {"bad smpte fps", header(0, 1, 0xEC10) + track(kEndOfTrack), 12, "frames per second"},
      {"garbage chunk", ok_header + Bytes{0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0}, 14,
       "expected a track chunk"},
      {"long vlq", ok_header + track({0x81, 0x81, 0x81, 0x81, 0x00, 0x90, 0x40, 0x40}), 22,
       "longer than 4 bytes"},
      {"running status first", ok_header + track(Bytes{0x00, 0x40, 0x40} + kEndOfTrack), 23,
       "running status without"},
      {"data byte high", ok_header + track(Bytes{0x00, 0x90, 0x40, 0x90} + kEndOfTrack), 24,
       "data byte above 127"},
      {"system real-time", ok_header + track(Bytes{0x00, 0xF8} + kEndOfTrack), 23,
       "system common or real-time"},
      {"event past chunk", ok_header + track({0x00, 0x90, 0x40}) + track(kEndOfTrack), 22,
       "past the end of its track chunk"},
      {"meta past chunk", ok_header + track({0x00, 0xFF, 0x03, 0x10, 'a'}) + track(kEndOfTrack),
       22, "past the end of its track chunk"},
      {"rmid without data", Bytes{'R', 'I', 'F', 'F', 4, 0, 0, 0, 'R', 'M', 'I', 'D'}, 12,
       "no 'data' chunk"},
  };
  for (const BadFile& c : cases) {
    try {
      parse(c.bytes);
      ADD_FAILURE() << c.what << ": no error";
    } catch (const MidiError& e) {
      EXPECT_EQ(e.offset(), c.offset) << c.what << ": " << e.what();
      EXPECT_NE(e.problem().find(c.problem), std::string::npos) << c.what << ": " << e.what();
      EXPECT_EQ(e.file(), "test.mid");
      EXPECT_EQ(std::string(e.what()).rfind("test.mid: byte " + std::to_string(c.offset), 0), 0u)
          << e.what();
    }
  }
}

struct Lenient {
  const char* what;
  Bytes bytes;
  const char* warning;  // a substring of the one expected warning
};

TEST(MidiReader, ReadsCommonBreakagesLenientlyWithAWarning) {
  const Bytes note = {0x00, 0x90, 0x40, 0x40, 0x60, 0x80, 0x40, 0x00};
  const std::vector<Lenient> cases = {
      {"no end of track", header(0, 1, 480) + track(note), "no End-of-Track"},
      {"bytes after end of track", header(0, 1, 480) + track(note + kEndOfTrack + Bytes{1, 2}),
       "after End-of-Track"},
      {"chunk length past end of file", header(0, 1, 480) + track(note + kEndOfTrack, 1000),
       "only 12 remain"},
      {"fewer tracks than declared", header(1, 2, 480) + track(note + kEndOfTrack),
       "declares 2 tracks but the file holds 1"},
      {"more tracks than declared",
       header(1, 1, 480) + track(note + kEndOfTrack) + track(kEndOfTrack), "more track chunks"},
      {"format 0 with two tracks", header(0, 2, 480) + track(note + kEndOfTrack) + track(kEndOfTrack),
       "format 0 file declares 2"},
  };
  for (const Lenient& c : cases) {
    std::vector<ReadWarning> warnings;
    MidiFile f;
    ASSERT_NO_THROW(f = parse(c.bytes, &warnings)) << c.what;
    ASSERT_EQ(warnings.size(), 1u) << c.what;
    EXPECT_NE(warnings[0].message.find(c.warning), std::string::npos)
        << c.what << ": " << warnings[0].message;
    ASSERT_GE(f.tracks.size(), 1u);
    const std::vector<Event> expected = {Event::note_on(0, 0, 64, 64),
                                         Event::note_off(96, 0, 64, 0)};
    EXPECT_EQ(f.tracks[0].events, expected) << c.what;
    EXPECT_EQ(f.tracks[0].end_tick, 96) << c.what;
  }
}

TEST(MidiReader, DropsThePartialEventOfATruncatedFile) {
  const Bytes body = {0x00, 0x90, 0x40, 0x40, 0x60, 0x80, 0x40, 0x00, 0x10, 0x90, 0x41};
  std::vector<ReadWarning> warnings;
  const MidiFile f = parse(header(0, 1, 480) + track(body, 200), &warnings);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].message.find("reading what is there"), std::string::npos);
  EXPECT_NE(warnings[1].message.find("partial event is dropped"), std::string::npos);
  EXPECT_EQ(warnings[1].offset, 22u + 8u);
  ASSERT_EQ(f.tracks[0].events.size(), 2u);
  EXPECT_EQ(f.tracks[0].end_tick, 96);
}

TEST(MidiReader, KeepsRunningStatusAcrossMetaEventsLikeMido) {
  const Bytes body = {0x00, 0x90, 0x40, 0x40, 0x00, 0xFF, 0x01, 0x01, 'x',
                      0x10, 0x40, 0x00, 0x00, 0xFF, 0x2F, 0x00};
  const MidiFile f = parse(header(0, 1, 480) + track(body));
  ASSERT_EQ(f.tracks[0].events.size(), 3u);
  EXPECT_EQ(f.tracks[0].events[2], Event::channel_message(16, 0x90, 0x40, 0x00));
}

TEST(MidiReader, SkipsUnknownChunksAndReadsRmidFiles) {
  const Bytes smf = header(0, 1, 480) + Bytes{'X', 'F', 'I', 'H', 0, 0, 0, 2, 9, 9} +
                    track(Bytes{0x00, 0x90, 0x40, 0x40} + kEndOfTrack);
  std::vector<ReadWarning> warnings;
  const MidiFile plain = parse(smf, &warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(plain.tracks.size(), 1u);
  // RIFF little-endian sizes; an odd-sized chunk before "data" is padded to an even size.
  const uint32_t n = static_cast<uint32_t>(smf.size());
  const Bytes riff = Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'R', 'M', 'I', 'D'} +
                     Bytes{'L', 'I', 'S', 'T', 1, 0, 0, 0, 7, 0} +
                     Bytes{'d', 'a', 't', 'a', static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8), 0, 0} +
                     smf;
  EXPECT_EQ(parse(riff), plain);
}

TEST(MidiReader, ReadFileNamesTheFileOnIoErrors) {
  try {
    read_midi_file("/nonexistent/x.mid");
    FAIL();
  } catch (const MidiError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/x.mid: cannot open: No such file or directory");
  }
  EXPECT_THROW(read_midi_file(BACHGEN_TEST_TMP), MidiError);  // a directory
  const std::string path = testing::temp_path("reader_ok.mid");
  const Bytes bytes = header(0, 1, 480) + track(Bytes{0x00, 0x90, 0x40, 0x40} + kEndOfTrack);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  EXPECT_EQ(read_midi_file(path), parse(bytes));
}

}  // namespace
}  // namespace bachgen::midi
