// The SMF writer: exact bytes for hand-computed files, write -> read round trips of every event
// kind, format-0 merging, the refusals, and atomic file writes.
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>

#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_writer.h"
#include "midi_bytes.h"

namespace bachgen::midi {
namespace {

using testing::Bytes;
using testing::operator+;
using testing::header;
using testing::track;

MidiFile every_event_kind() {
  MidiFile f;
  f.format = 1;
  f.division = Division::ticks_per_quarter(1024);
  Track& meta = f.tracks.emplace_back();
  meta.events = {Event::text_event(0, meta::kTrackName, "Chorale"),
                 Event::tempo(0, 714286),
                 Event::time_signature(0, 3, 4),
                 Event::key_signature(0, -3, false),
                 Event::meta_event(0, 0x60, {1, 2, 3}),
                 Event::tempo(4096, 800000),
                 Event::text_event(4096, meta::kMarker, "Fermata")};
  meta.end_tick = 8192;
  Track& notes = f.tracks.emplace_back();
  Event sysex;
  sysex.type = EventType::kSysex;
  sysex.status = 0xF0;
  sysex.data = {0x7E, 0x7F, 0x09, 0x01, 0xF7};
  Event escape;
  escape.tick = 10;
  escape.type = EventType::kEscape;
  escape.status = 0xF7;
  escape.data = {0xF3, 0x01};
  notes.events = {sysex,
                  Event::program_change(0, 2, 19),
                  Event::control_change(0, 2, 64, 127),
                  escape,
                  Event::note_on(1024, 2, 67, 90),
                  Event::note_on(1024, 2, 71, 90),
                  Event::channel_message(2048, 0x92, 67, 0),  // note-on velocity 0 stays so
                  Event::note_off(2048, 2, 71, 33),
                  Event::channel_message(2048, 0xA2, 60, 5),
                  Event::channel_message(3000, 0xD2, 77),
                  Event::channel_message(3000, 0xE2, 0x7F, 0x7F),
                  Event::control_change(5000, 2, 64, 0)};
  notes.end_tick = 6000;
  f.tracks.emplace_back();  // an empty track
  return f;
}

TEST(MidiWriter, WritesTheExactBytesOfASmallFile) {
  MidiFile f;
  f.format = 0;
  f.division = Division::ticks_per_quarter(96);
  Track& t = f.tracks.emplace_back();
  t.events = {Event::tempo(0, 500000), Event::note_on(0, 0, 60, 100),
              Event::note_on(96, 0, 60, 0), Event::note_on(224, 0, 62, 80),
              Event::note_off(300, 0, 62, 64)};
  t.end_tick = 300;
  const Bytes body = {0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,  // tempo
                      0x00, 0x90, 0x3C, 0x64,                    // note-on (status reset by meta)
                      0x60, 0x3C, 0x00,                          // running status
                      0x81, 0x00, 0x3E, 0x50,                    // +128, running status
                      0x4C, 0x80, 0x3E, 0x40,                    // +76, new status
                      0x00, 0xFF, 0x2F, 0x00};
  EXPECT_EQ(encode_midi(f), header(0, 1, 96) + track(body));

  const Bytes without_running = {0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, 0x00, 0x90,
                                 0x3C, 0x64, 0x60, 0x90, 0x3C, 0x00, 0x81, 0x00, 0x90,
                                 0x3E, 0x50, 0x4C, 0x80, 0x3E, 0x40, 0x00, 0xFF, 0x2F, 0x00};
  EXPECT_EQ(encode_midi(f, {/*running_status=*/false}), header(0, 1, 96) + track(without_running));
}

TEST(MidiWriter, RunningStatusRestartsAfterMetaAndSysex) {
  MidiFile f;
  f.format = 0;
  Track& t = f.tracks.emplace_back();
  t.events = {Event::note_on(0, 0, 60, 1), Event::text_event(0, meta::kText, ""),
              Event::note_on(0, 0, 61, 1)};
  const Bytes body = {0x00, 0x90, 60, 1, 0x00, 0xFF, 0x01, 0x00, 0x00, 0x90, 61, 1,
                      0x00, 0xFF, 0x2F, 0x00};
  EXPECT_EQ(encode_midi(f), header(0, 1, 480) + track(body));
}

TEST(MidiWriter, WriteThenReadGivesBackEveryEvent) {
  const MidiFile f = every_event_kind();
  for (bool running : {true, false}) {
    std::vector<ReadWarning> warnings;
    const MidiFile back = parse_midi(encode_midi(f, {running}), "roundtrip", &warnings);
    EXPECT_TRUE(warnings.empty());
    EXPECT_EQ(back, f);
  }
  MidiFile f2 = f;
  f2.format = 2;
  f2.division = Division::smpte(25, 40);
  EXPECT_EQ(parse_midi(encode_midi(f2), "roundtrip"), f2);
}

TEST(MidiWriter, EndOfTrackNeverPrecedesTheLastEvent) {
  MidiFile f;
  f.format = 0;
  Track& t = f.tracks.emplace_back();
  t.events = {Event::note_on(500, 0, 60, 1)};
  t.end_tick = 0;  // too early: written at the last event
  EXPECT_EQ(parse_midi(encode_midi(f), "x").tracks[0].end_tick, 500);
}

TEST(MidiWriter, MergesTracksIntoFormat0InTimeThenTrackOrder) {
  const MidiFile f = every_event_kind();
  const MidiFile merged = merge_to_format0(f);
  EXPECT_EQ(merged.format, 0);
  ASSERT_EQ(merged.tracks.size(), 1u);
  const Track& t = merged.tracks[0];
  EXPECT_EQ(t.end_tick, 8192);
  EXPECT_EQ(t.events.size(), f.tracks[0].events.size() + f.tracks[1].events.size());
  for (size_t i = 1; i < t.events.size(); ++i) EXPECT_LE(t.events[i - 1].tick, t.events[i].tick);
  // At tick 0 the conductor track's events come first, then the note track's.
  EXPECT_EQ(t.events[0], f.tracks[0].events[0]);
  EXPECT_EQ(t.events[5], f.tracks[1].events[0]);
  EXPECT_EQ(parse_midi(encode_midi(merged), "merged"), merged);
}

TEST(MidiWriter, RefusesModelsThatCannotBeWritten) {
  MidiFile two_tracks_format0 = every_event_kind();
  two_tracks_format0.format = 0;
  EXPECT_THROW(encode_midi(two_tracks_format0), std::invalid_argument);

  MidiFile backwards;
  backwards.tracks.emplace_back().events = {Event::note_on(10, 0, 60, 1),
                                            Event::note_on(5, 0, 61, 1)};
  try {
    encode_midi(backwards);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("track 0, event 1: tick goes backwards"),
              std::string::npos);
  }
  MidiFile far;
  far.tracks.emplace_back().events = {Event::note_on(int64_t{1} << 28, 0, 60, 1)};
  EXPECT_THROW(encode_midi(far), std::invalid_argument);
  MidiFile eot;
  eot.tracks.emplace_back().events = {Event::meta_event(0, meta::kEndOfTrack, {})};
  EXPECT_THROW(encode_midi(eot), std::invalid_argument);
}

bool directory_has_temp_files(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  bool found = false;
  while (dirent* e = readdir(d)) {
    if (std::string(e->d_name).find(".tmp-") != std::string::npos) found = true;
  }
  closedir(d);
  return found;
}

TEST(MidiWriter, WritesFilesAtomically) {
  const std::string dir = testing::temp_path("writer");
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/out.mid";
  const MidiFile f = every_event_kind();
  write_midi_file(path, f);
  EXPECT_EQ(read_midi_file(path), f);
  EXPECT_FALSE(directory_has_temp_files(dir));

  // A model that cannot be encoded leaves the previous file untouched.
  MidiFile bad = f;
  bad.format = 0;
  EXPECT_THROW(write_midi_file(path, bad), std::invalid_argument);
  EXPECT_EQ(read_midi_file(path), f);
  EXPECT_THROW(write_midi_file(dir + "/missing/out.mid", f), std::runtime_error);
  EXPECT_FALSE(directory_has_temp_files(dir));
}

}  // namespace
}  // namespace bachgen::midi
