// Note pairing: note-on velocity 0, overlapping notes under both rules, lone note-offs,
// unended notes, per-channel and per-track pairing, and the output order.
#include <gtest/gtest.h>

#include "bachgen/midi/notes.h"

namespace bachgen::midi {
namespace {

MidiFile one_track(std::vector<Event> events, int64_t end_tick) {
  MidiFile f;
  f.tracks.emplace_back();
  f.tracks[0].events = std::move(events);
  f.tracks[0].end_tick = end_tick;
  return f;
}

Note note(int track, int channel, int pitch, int velocity, int off_velocity, int64_t start,
          int64_t end) {
  return {track, static_cast<uint8_t>(channel), static_cast<uint8_t>(pitch),
          static_cast<uint8_t>(velocity), static_cast<uint8_t>(off_velocity), start, end};
}

TEST(Notes, PairsOnAndOffIncludingVelocityZero) {
  const MidiFile f = one_track({Event::note_on(0, 0, 60, 90), Event::note_on(0, 0, 64, 80),
                                Event::note_on(100, 0, 60, 0), Event::note_off(120, 0, 64, 70)},
                               200);
  NoteStats stats;
  const std::vector<Note> expected = {note(0, 0, 60, 90, 0, 0, 100),
                                      note(0, 0, 64, 80, 70, 0, 120)};
  EXPECT_EQ(extract_notes(f, {}, &stats), expected);
  EXPECT_EQ(stats.lone_note_offs + stats.unended_notes + stats.overlapping_notes, 0);
}

TEST(Notes, OverlappingNotesOfOnePitchFollowTheChosenRule) {
  // on@0 (v1), on@10 (v2), off@20, off@30
  const MidiFile f =
      one_track({Event::note_on(0, 0, 60, 1), Event::note_on(10, 0, 60, 2),
                 Event::note_off(20, 0, 60), Event::note_off(30, 0, 60)},
                40);
  NoteStats stats;
  const std::vector<Note> fifo = {note(0, 0, 60, 1, 0, 0, 20), note(0, 0, 60, 2, 0, 10, 30)};
  EXPECT_EQ(extract_notes(f, {OverlapRule::kFirstInFirstOut}, &stats), fifo);
  EXPECT_EQ(stats.overlapping_notes, 1);
  const std::vector<Note> lifo = {note(0, 0, 60, 1, 0, 0, 30), note(0, 0, 60, 2, 0, 10, 20)};
  EXPECT_EQ(extract_notes(f, {OverlapRule::kLastInFirstOut}), lifo);
  // Three deep, LIFO.
  const MidiFile g = one_track({Event::note_on(0, 0, 60, 1), Event::note_on(1, 0, 60, 2),
                                Event::note_on(2, 0, 60, 3), Event::note_off(3, 0, 60),
                                Event::note_off(4, 0, 60), Event::note_off(5, 0, 60)},
                               5);
  const std::vector<Note> lifo3 = {note(0, 0, 60, 1, 0, 0, 5), note(0, 0, 60, 2, 0, 1, 4),
                                   note(0, 0, 60, 3, 0, 2, 3)};
  EXPECT_EQ(extract_notes(g, {OverlapRule::kLastInFirstOut}), lifo3);
}

TEST(Notes, LoneOffsAreIgnoredAndUnendedNotesEndWithTheTrack) {
  const MidiFile f = one_track({Event::note_off(0, 0, 50), Event::note_on(5, 3, 70, 60),
                                Event::note_on(5, 0, 50, 60), Event::note_off(6, 0, 50),
                                Event::note_off(7, 0, 50)},
                               99);
  NoteStats stats;
  const std::vector<Note> expected = {note(0, 0, 50, 60, 0, 5, 6), note(0, 3, 70, 60, 0, 5, 99)};
  EXPECT_EQ(extract_notes(f, {}, &stats), expected);
  EXPECT_EQ(stats.lone_note_offs, 2);
  EXPECT_EQ(stats.unended_notes, 1);
}

TEST(Notes, PairsPerTrackAndChannel) {
  MidiFile f;
  f.tracks.resize(2);
  f.tracks[0].events = {Event::note_on(0, 0, 60, 10), Event::note_off(10, 1, 60)};
  f.tracks[0].end_tick = 50;
  f.tracks[1].events = {Event::note_off(5, 0, 60), Event::note_on(0 + 8, 0, 60, 20),
                        Event::note_off(9, 0, 60)};
  f.tracks[1].end_tick = 9;
  NoteStats stats;
  const std::vector<Note> expected = {note(0, 0, 60, 10, 0, 0, 50), note(1, 0, 60, 20, 0, 8, 9)};
  EXPECT_EQ(extract_notes(f, {}, &stats), expected);
  EXPECT_EQ(stats.lone_note_offs, 2);  // the channel-1 off of track 0, the early off of track 1
  EXPECT_EQ(stats.unended_notes, 1);
}

TEST(Notes, SortsByStartThenTrackChannelPitch) {
  MidiFile f;
  f.tracks.resize(2);
  f.tracks[0].events = {Event::note_on(10, 0, 72, 1), Event::note_on(10, 0, 48, 1),
                        Event::note_off(11, 0, 72), Event::note_off(30, 0, 48)};
  f.tracks[1].events = {Event::note_on(0, 5, 60, 1), Event::note_on(10, 1, 60, 1),
                        Event::note_off(12, 1, 60), Event::note_off(12, 5, 60)};
  const std::vector<Note> notes = extract_notes(f);
  ASSERT_EQ(notes.size(), 4u);
  EXPECT_EQ(notes[0].start, 0);
  EXPECT_EQ(notes[1].pitch, 48);
  EXPECT_EQ(notes[2].pitch, 72);
  EXPECT_EQ(notes[3].track, 1);
  EXPECT_EQ(notes[3].start, 10);
}

TEST(Notes, NoteEventsAreTheInverseOfPairing) {
  // A repeated note (ends where the next starts), a chord, a zero-velocity note.
  const std::vector<Note> notes = {note(0, 2, 60, 90, 0, 0, 100), note(0, 2, 64, 0, 0, 0, 50),
                                   note(0, 2, 60, 80, 0, 100, 200)};
  const std::vector<Event> events = note_events(notes);
  const std::vector<Event> expected = {
      Event::note_on(0, 2, 60, 90),  Event::note_on(0, 2, 64, 1), Event::note_off(50, 2, 64),
      Event::note_off(100, 2, 60),   Event::note_on(100, 2, 60, 80), Event::note_off(200, 2, 60)};
  EXPECT_EQ(events, expected);
  MidiFile f = one_track(events, 200);
  std::vector<Note> back = extract_notes(f);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0], notes[0]);
  EXPECT_EQ(back[1].velocity, 1);
  EXPECT_EQ(back[2], notes[2]);
}

}  // namespace
}  // namespace bachgen::midi
