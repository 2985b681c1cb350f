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

// A function object (not a function pointer) so that the sorts inline it.
struct NoteOrder {
  bool operator()(const Note& a, const Note& b) const {
    if (a.start != b.start) return a.start < b.start;
    return std::tie(a.track, a.channel, a.pitch, a.end) <
           std::tie(b.track, b.channel, b.pitch, b.end);
  }
};
constexpr NoteOrder note_order;

// Merges the sorted per-track runs (which start at run_starts) into one sorted vector, pairing
// neighbouring runs round by round (n log k comparisons), ping-ponging between two buffers.
std::vector<Note> merge_runs(std::vector<Note> notes, std::vector<size_t> run_starts) {
  if (run_starts.size() <= 1) return notes;
  std::vector<Note> buffer(notes.size());
  run_starts.push_back(notes.size());  // run r is [run_starts[r], run_starts[r + 1])
  while (run_starts.size() > 2) {
    std::vector<size_t> merged_starts;
    size_t r = 0;
    for (; r + 2 < run_starts.size(); r += 2) {
      std::merge(notes.begin() + run_starts[r], notes.begin() + run_starts[r + 1],
                 notes.begin() + run_starts[r + 1], notes.begin() + run_starts[r + 2],
                 buffer.begin() + run_starts[r], note_order);
      merged_starts.push_back(run_starts[r]);
    }
    if (r + 1 < run_starts.size()) {  // an odd run out: carried over as it is
      std::copy(notes.begin() + run_starts[r], notes.begin() + run_starts[r + 1],
                buffer.begin() + run_starts[r]);
      merged_starts.push_back(run_starts[r]);
    }
    merged_starts.push_back(notes.size());
    notes.swap(buffer);
    run_starts.swap(merged_starts);
  }
  return notes;
}

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
  head.fill(-1);
  tail.fill(-1);
  std::vector<int> used_keys;  // keys struck in this track: only these are reset and scanned
  std::vector<Sounding> pool;
  std::vector<int32_t> free_slots;
  std::vector<size_t> run_starts;  // where each track's notes begin in `notes`
  const bool fifo = options.overlap == OverlapRule::kFirstInFirstOut;

  for (size_t ti = 0; ti < file.tracks.size(); ++ti) {
    const Track& track = file.tracks[ti];
    const size_t run_start = notes.size();
    pool.clear();
    free_slots.clear();
    used_keys.clear();
    int64_t sounding = 0;
    for (const Event& e : track.events) {
      // Note-on and note-off are the only channel commands of the form 100x: one test for both.
      if (e.type != EventType::kChannel || (e.status & 0xE0) != 0x80) continue;
      const uint8_t cmd = e.command();
      const int key = e.channel() * 128 + e.data1;
      if (cmd == command::kNoteOn && e.data2 > 0) {
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
          used_keys.push_back(key);  // may repeat; harmless for reset and scan below
        }
        tail[key] = slot;
        ++sounding;
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
      --sounding;
    }
    if (sounding > 0) {  // notes still sounding end with the track, in key order
      std::sort(used_keys.begin(), used_keys.end());
      used_keys.erase(std::unique(used_keys.begin(), used_keys.end()), used_keys.end());
      for (int key : used_keys) {
        for (int32_t slot = head[key]; slot >= 0; slot = pool[slot].next) {
          ++st.unended_notes;
          const int64_t end = std::max(track.end_tick, pool[slot].start);
          notes.push_back({static_cast<int32_t>(ti), static_cast<uint8_t>(key / 128),
                           static_cast<uint8_t>(key % 128), pool[slot].velocity, 0,
                           pool[slot].start, end});
        }
      }
    }
    for (int key : used_keys) head[key] = tail[key] = -1;
    // Notes come out in note-off order, which for most tracks is already start order.
    const auto run = notes.begin() + static_cast<std::ptrdiff_t>(run_start);
    if (!std::is_sorted(run, notes.end(), note_order)) std::stable_sort(run, notes.end(), note_order);
    if (notes.size() > run_start) run_starts.push_back(run_start);
  }
  return merge_runs(std::move(notes), run_starts);
}

}  // namespace bachgen::midi
