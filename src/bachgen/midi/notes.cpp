// Note pairing with one queue of sounding notes per (channel, pitch), kept as linked lists in
// a pool so that a whole track costs no allocation per note.
#include "bachgen/midi/notes.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace bachgen::midi {

namespace {

constexpr int kKeys = 16 * 128;

// The sounding notes of one key (channel, pitch). The oldest lives inline, so the common case
// (no overlap) touches one 16-byte entry; further overlapping notes queue in a pool.
struct KeyState {
  int64_t start = 0;
  int32_t queue = -1;  // pool index of the next-oldest sounding note, -1 if none
  uint8_t velocity = 0;
  bool sounding = false;
};

struct Queued {
  int64_t start;
  uint8_t velocity;
  int32_t next;  // older -> newer; -1 ends the queue
};

// Appends a note field by field, straight into the vector: building it in a temporary first
// makes the compiler copy it with wide loads over narrow stores, which stalls store forwarding.
inline void append_note(std::vector<Note>& notes, int32_t track, int channel, int pitch,
                        uint8_t velocity, uint8_t off_velocity, int64_t start, int64_t end) {
  Note& n = notes.emplace_back();
  n.track = track;
  n.channel = static_cast<uint8_t>(channel);
  n.pitch = static_cast<uint8_t>(pitch);
  n.velocity = velocity;
  n.off_velocity = off_velocity;
  n.start = start;
  n.end = end;
}

// Per-thread scratch, kept between calls: only the keys a track touched are reset after it, so
// a call costs nothing per unused key.
struct PairingScratch {
  std::array<KeyState, kKeys> keys{};
  std::vector<Queued> pool;
  std::vector<int32_t> free_slots;
  std::vector<int> used_keys;
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

  thread_local PairingScratch scratch;
  std::array<KeyState, kKeys>& keys = scratch.keys;
  std::vector<Queued>& pool = scratch.pool;
  std::vector<int32_t>& free_slots = scratch.free_slots;
  std::vector<int>& used_keys = scratch.used_keys;
  std::vector<size_t> run_starts;  // where each track's notes begin in `notes`
  const bool fifo = options.overlap == OverlapRule::kFirstInFirstOut;

  auto queue_slot = [&](int64_t start, uint8_t velocity) {
    int32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<int32_t>(pool.size());
      pool.emplace_back();
    }
    pool[slot] = {start, velocity, -1};
    return slot;
  };

  for (size_t ti = 0; ti < file.tracks.size(); ++ti) {
    const Track& track = file.tracks[ti];
    const int32_t track_index = static_cast<int32_t>(ti);
    const size_t run_start = notes.size();
    pool.clear();
    free_slots.clear();
    used_keys.clear();
    int64_t sounding = 0;
    for (const Event& e : track.events) {
      // Note-on and note-off are the only channel commands of the form 100x: one test for both.
      if (e.type != EventType::kChannel || (e.status & 0xE0) != 0x80) continue;
      const int key = e.channel() * 128 + e.data1;
      KeyState& k = keys[key];
      if ((e.status & 0xF0) == command::kNoteOn && e.data2 > 0) {
        ++sounding;
        if (!k.sounding) {
          k.start = e.tick;
          k.velocity = e.data2;
          k.sounding = true;
          used_keys.push_back(key);  // may repeat; harmless for the reset and scan below
          continue;
        }
        ++st.overlapping_notes;
        const int32_t slot = queue_slot(e.tick, e.data2);
        if (k.queue < 0) {
          k.queue = slot;
        } else {
          int32_t last = k.queue;
          while (pool[last].next >= 0) last = pool[last].next;
          pool[last].next = slot;
        }
        continue;
      }
      // note-off (or note-on with velocity 0)
      if (!k.sounding) {
        ++st.lone_note_offs;
        continue;
      }
      --sounding;
      const uint8_t off_velocity = (e.status & 0xF0) == command::kNoteOff ? e.data2 : 0;
      if (k.queue < 0) {  // the usual case: one sounding note
        append_note(notes, track_index, e.channel(), e.data1, k.velocity, off_velocity, k.start,
                    e.tick);
        k.sounding = false;
      } else if (fifo) {  // end the inline (oldest) note; the next-oldest moves inline
        append_note(notes, track_index, e.channel(), e.data1, k.velocity, off_velocity, k.start,
                    e.tick);
        const int32_t next = k.queue;
        k.start = pool[next].start;
        k.velocity = pool[next].velocity;
        k.queue = pool[next].next;
        free_slots.push_back(next);
      } else {  // LIFO: end the newest, at the end of the queue
        int32_t prev = -1, last = k.queue;
        while (pool[last].next >= 0) {
          prev = last;
          last = pool[last].next;
        }
        append_note(notes, track_index, e.channel(), e.data1, pool[last].velocity, off_velocity,
                    pool[last].start, e.tick);
        if (prev < 0) {
          k.queue = -1;
        } else {
          pool[prev].next = -1;
        }
        free_slots.push_back(last);
      }
    }
    if (sounding > 0) {  // notes still sounding end with the track, in key order
      std::sort(used_keys.begin(), used_keys.end());
      used_keys.erase(std::unique(used_keys.begin(), used_keys.end()), used_keys.end());
      for (int key : used_keys) {
        const KeyState& k = keys[key];
        if (!k.sounding) continue;
        auto unended = [&](int64_t start, uint8_t velocity) {
          ++st.unended_notes;
          append_note(notes, track_index, key / 128, key % 128, velocity, 0, start,
                      std::max(track.end_tick, start));
        };
        unended(k.start, k.velocity);
        for (int32_t slot = k.queue; slot >= 0; slot = pool[slot].next) {
          unended(pool[slot].start, pool[slot].velocity);
        }
      }
    }
    for (int key : used_keys) keys[key] = KeyState{};
    // Notes come out in note-off order, which for most tracks is already start order.
    const auto run = notes.begin() + static_cast<std::ptrdiff_t>(run_start);
    if (!std::is_sorted(run, notes.end(), note_order)) std::stable_sort(run, notes.end(), note_order);
    if (notes.size() > run_start) run_starts.push_back(run_start);
  }
  return merge_runs(std::move(notes), run_starts);
}

std::vector<Event> note_events(const std::vector<Note>& notes) {
  struct Change {
    int64_t tick;
    bool on;
    const Note* note;
  };
  std::vector<Change> changes;
  changes.reserve(notes.size() * 2);
  for (const Note& n : notes) {
    changes.push_back({n.start, true, &n});
    changes.push_back({std::max(n.end, n.start), false, &n});
  }
  std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
    return std::tie(a.tick, a.on, a.note->pitch) < std::tie(b.tick, b.on, b.note->pitch);
  });
  std::vector<Event> events;
  events.reserve(changes.size());
  for (const Change& c : changes) {
    const Note& n = *c.note;
    events.push_back(c.on ? Event::note_on(c.tick, n.channel, n.pitch, std::max<int>(1, n.velocity))
                          : Event::note_off(c.tick, n.channel, n.pitch, n.off_velocity));
  }
  return events;
}

}  // namespace bachgen::midi
