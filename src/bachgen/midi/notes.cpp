// Note pairing with one queue of sounding notes per (channel, pitch), kept as linked lists in
// a pool so that a whole track costs no allocation per note.
#include "bachgen/midi/notes.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace bachgen::midi {

namespace {

constexpr int kKeys = 16 * 128;

struct Sounding {
  int64_t start;
  uint8_t velocity;
  int32_t next;  // older -> newer; -1 ends the list
};

}  // namespace

std::vector<Note> extract_notes(const MidiFile& file, const NoteOptions& options,
                                NoteStats* stats) {
  NoteStats local;
  NoteStats& st = stats ? *stats : local;
  std::vector<Note> notes;
  size_t events = 0;
  for (const Track& t : file.tracks) events += t.events.size();
  notes.reserve(events / 2);

  std::array<int32_t, kKeys> head;  // oldest sounding note of each key
  std::array<int32_t, kKeys> tail;  // newest
  std::vector<Sounding> pool;
  std::vector<int32_t> free_slots;
  const bool fifo = options.overlap == OverlapRule::kFirstInFirstOut;

  for (size_t ti = 0; ti < file.tracks.size(); ++ti) {
    const Track& track = file.tracks[ti];
    head.fill(-1);
    tail.fill(-1);
    pool.clear();
    free_slots.clear();
    for (const Event& e : track.events) {
      if (!e.is_channel()) continue;
      const uint8_t cmd = e.command();
      if (cmd != command::kNoteOn && cmd != command::kNoteOff) continue;
      const int key = e.channel() * 128 + e.data1;
      if (e.is_note_on()) {
        if (head[key] >= 0) ++st.overlapping_notes;
        int32_t slot;
        if (!free_slots.empty()) {
          slot = free_slots.back();
          free_slots.pop_back();
        } else {
          slot = static_cast<int32_t>(pool.size());
          pool.emplace_back();
        }
        pool[slot] = {e.tick, e.data2, -1};
        if (tail[key] >= 0) {
          pool[tail[key]].next = slot;
        } else {
          head[key] = slot;
        }
        tail[key] = slot;
        continue;
      }
      // note-off (or note-on with velocity 0)
      if (head[key] < 0) {
        ++st.lone_note_offs;
        continue;
      }
      int32_t slot = head[key];
      if (fifo || pool[slot].next < 0) {
        head[key] = pool[slot].next;
        if (head[key] < 0) tail[key] = -1;
      } else {  // LIFO: unlink the newest, walking the short list of overlapping notes
        int32_t prev = slot;
        while (pool[pool[prev].next].next >= 0) prev = pool[prev].next;
        slot = pool[prev].next;
        pool[prev].next = -1;
        tail[key] = prev;
      }
      const uint8_t off_velocity = cmd == command::kNoteOff ? e.data2 : 0;
      notes.push_back({static_cast<int32_t>(ti), e.channel(), e.data1, pool[slot].velocity,
                       off_velocity, pool[slot].start, e.tick});
      free_slots.push_back(slot);
    }
    for (int key = 0; key < kKeys; ++key) {
      for (int32_t slot = head[key]; slot >= 0; slot = pool[slot].next) {
        ++st.unended_notes;
        const int64_t end = std::max(track.end_tick, pool[slot].start);
        notes.push_back({static_cast<int32_t>(ti), static_cast<uint8_t>(key / 128),
                         static_cast<uint8_t>(key % 128), pool[slot].velocity, 0,
                         pool[slot].start, end});
      }
    }
  }
  std::stable_sort(notes.begin(), notes.end(), [](const Note& a, const Note& b) {
    return std::tie(a.start, a.track, a.channel, a.pitch, a.end) <
           std::tie(b.start, b.track, b.channel, b.pitch, b.end);
  });
  return notes;
}

}  // namespace bachgen::midi
