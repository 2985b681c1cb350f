// Performance events: MIDI -> notes in seconds (with sustain) -> tokens, and back.
#include "bachgen/tokenize/performance388.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <map>
#include <stdexcept>
#include <tuple>

#include "bachgen/midi/notes.h"
#include "bachgen/midi/tempo_map.h"

namespace bachgen::tokenize {

namespace {

using V = PerformanceVocab;

bool note_less(const PerformanceNote& a, const PerformanceNote& b) {
  return std::tie(a.start, a.pitch, a.end, a.velocity) <
         std::tie(b.start, b.pitch, b.end, b.velocity);
}

struct PedalInterval {
  int64_t down = 0;
  int64_t up = 0;
};

// Sustain-pedal intervals (CC64 >= 64 is down) of one track, per channel.
std::array<std::vector<PedalInterval>, 16> pedal_intervals(const midi::Track& track) {
  std::array<std::vector<PedalInterval>, 16> out;
  std::array<int64_t, 16> down_since;
  down_since.fill(-1);
  for (const midi::Event& e : track.events) {
    if (!e.is_channel() || e.command() != midi::command::kControlChange || e.data1 != 64) continue;
    const int c = e.channel();
    if (e.data2 >= 64) {
      if (down_since[c] < 0) down_since[c] = e.tick;
    } else if (down_since[c] >= 0) {
      out[c].push_back({down_since[c], e.tick});
      down_since[c] = -1;
    }
  }
  for (int c = 0; c < 16; ++c) {
    if (down_since[c] >= 0) out[c].push_back({down_since[c], std::max(track.end_tick, down_since[c])});
  }
  return out;
}

}  // namespace

std::vector<PerformanceNote> performance_notes(const midi::MidiFile& file,
                                               const PerformanceOptions& options) {
  std::vector<midi::Note> notes = midi::extract_notes(file);
  if (options.sustain) {
    // Magenta's rule: a note released while the pedal is down sounds until the pedal is
    // released, unless the same pitch is struck again first, which ends it there.
    for (size_t t = 0; t < file.tracks.size(); ++t) {
      const auto pedals = pedal_intervals(file.tracks[t]);
      if (std::all_of(pedals.begin(), pedals.end(), [](const auto& p) { return p.empty(); })) continue;
      std::map<std::pair<int, int>, std::vector<midi::Note*>> by_key;  // (channel, pitch)
      for (midi::Note& n : notes) {
        if (n.track != static_cast<int32_t>(t)) continue;
        by_key[{n.channel, n.pitch}].push_back(&n);
      }
      for (auto& [key, group] : by_key) {
        const auto& intervals = pedals[static_cast<size_t>(key.first)];
        if (intervals.empty()) continue;
        std::vector<int64_t> original_end;
        for (midi::Note* n : group) {
          original_end.push_back(n->end);
          for (const PedalInterval& p : intervals) {
            if (n->end >= p.down && n->end < p.up) {
              n->end = p.up;
              break;
            }
          }
        }
        for (size_t i = 0; i < group.size(); ++i) {  // group is in start order
          for (size_t j = i + 1; j < group.size(); ++j) {
            if (group[j]->start <= group[i]->start) continue;
            if (group[j]->start < group[i]->end && group[j]->start >= original_end[i]) {
              group[i]->end = group[j]->start;
            }
            break;
          }
        }
      }
    }
  }
  const midi::TempoMap map = midi::TempoMap::of_file(file);
  std::vector<PerformanceNote> out;
  out.reserve(notes.size());
  for (const midi::Note& n : notes) {
    out.push_back({n.pitch, map.seconds_at(n.start), map.seconds_at(n.end), n.velocity});
  }
  // extract_notes sorted by start already (sustain only moves ends): order each group of equal
  // starts by pitch, end and velocity. Groups are chords: a few notes each.
  for (size_t first = 0; first < out.size();) {
    size_t last = first + 1;
    while (last < out.size() && out[last].start == out[first].start) ++last;
    if (last - first > 1) std::sort(out.begin() + first, out.begin() + last, note_less);
    first = last;
  }
  return out;
}

std::vector<int32_t> encode_performance(const std::vector<PerformanceNote>& notes,
                                        const PerformanceEncodeOptions& options) {
  // Changes as sortable keys: (step << 7 | pitch). Onsets carry their velocity.
  struct Onset {
    uint64_t key;
    int velocity;
  };
  std::vector<Onset> onsets;
  std::vector<uint64_t> offsets;
  onsets.reserve(notes.size());
  offsets.reserve(notes.size());
  // Rounded to the nearest step, halves away from zero (as llround, inline); never negative.
  auto step_of = [](double seconds) {
    const double steps = seconds * V::kStepsPerSecond;
    return steps <= 0 ? int64_t{0} : static_cast<int64_t>(steps + 0.5);
  };
  for (const PerformanceNote& n : notes) {
    if (n.pitch < 0 || n.pitch > 127) {
      throw std::invalid_argument("performance note with pitch " + std::to_string(n.pitch));
    }
    const int64_t on = step_of(n.start);
    const int64_t off = std::max(step_of(n.end), on + 1);
    onsets.push_back({static_cast<uint64_t>(on) << 7 | static_cast<uint64_t>(n.pitch), n.velocity});
    offsets.push_back(static_cast<uint64_t>(off) << 7 | static_cast<uint64_t>(n.pitch));
  }
  // Sorted by step then pitch; equal onsets keep note order (stable), so velocities follow it.
  if (!std::is_sorted(onsets.begin(), onsets.end(),
                      [](const Onset& a, const Onset& b) { return a.key < b.key; })) {
    std::stable_sort(onsets.begin(), onsets.end(),
                     [](const Onset& a, const Onset& b) { return a.key < b.key; });
  }
  std::sort(offsets.begin(), offsets.end());

  std::vector<int32_t> tokens;
  tokens.reserve(notes.size() * 4 + 2);
  if (options.bos) tokens.push_back(V::kBos);
  int64_t now = 0;
  int bin = 0;  // none yet: the first note-on always states its velocity
  auto advance_to = [&](int64_t step) {
    while (step > now) {
      const int64_t shift = std::min<int64_t>(V::kMaxShiftSteps, step - now);
      tokens.push_back(V::kTimeShift + static_cast<int32_t>(shift - 1));
      now += shift;
    }
  };
  size_t i = 0, j = 0;
  while (i < onsets.size() || j < offsets.size()) {
    // At one step the offs come first.
    const bool off_next = j < offsets.size() &&
                          (i == onsets.size() || (offsets[j] >> 7) <= (onsets[i].key >> 7));
    if (off_next) {
      advance_to(static_cast<int64_t>(offsets[j] >> 7));
      tokens.push_back(V::kNoteOff + static_cast<int32_t>(offsets[j] & 127));
      ++j;
    } else {
      advance_to(static_cast<int64_t>(onsets[i].key >> 7));
      const int b = V::velocity_bin(onsets[i].velocity);
      if (b != bin) {
        tokens.push_back(V::kVelocity + b - 1);
        bin = b;
      }
      tokens.push_back(V::kNoteOn + static_cast<int32_t>(onsets[i].key & 127));
      ++i;
    }
  }
  if (options.eos) tokens.push_back(V::kEos);
  return tokens;
}

std::vector<PerformanceNote> decode_performance(const std::vector<int32_t>& tokens,
                                                PerformanceDecodeStats* stats) {
  PerformanceDecodeStats local;
  PerformanceDecodeStats& st = stats ? *stats : local;
  std::array<std::deque<std::pair<int64_t, int>>, 128> sounding;  // (start step, velocity)
  std::vector<PerformanceNote> notes;
  int64_t now = 0;
  int velocity = 64;
  auto seconds = [](int64_t step) { return static_cast<double>(step) / V::kStepsPerSecond; };
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t tok = tokens[i];
    if (tok == V::kEos) break;
    if (tok == V::kPad || tok == V::kBos) continue;
    if (tok < 0 || tok >= V::kSize) {
      throw std::invalid_argument("token " + std::to_string(i) + ": id " + std::to_string(tok) +
                                  " is outside the performance388 vocabulary");
    }
    if (tok < V::kNoteOff) {
      sounding[static_cast<size_t>(tok)].push_back({now, velocity});
    } else if (tok < V::kTimeShift) {
      auto& q = sounding[static_cast<size_t>(tok - V::kNoteOff)];
      if (q.empty()) {
        ++st.lone_note_offs;
        continue;
      }
      notes.push_back({tok - V::kNoteOff, seconds(q.front().first), seconds(now), q.front().second});
      q.pop_front();
    } else if (tok < V::kVelocity) {
      now += tok - V::kTimeShift + 1;
    } else {
      velocity = V::bin_velocity(tok - V::kVelocity + 1);
    }
  }
  for (int pitch = 0; pitch < 128; ++pitch) {
    for (const auto& [start, vel] : sounding[static_cast<size_t>(pitch)]) {
      ++st.unended_notes;
      notes.push_back({pitch, seconds(start), seconds(std::max(now, start + 1)), vel});
    }
  }
  std::sort(notes.begin(), notes.end(), note_less);
  return notes;
}

midi::MidiFile performance_to_midi(const std::vector<PerformanceNote>& notes) {
  constexpr uint32_t kTempo = 480000;  // 125 bpm: with 480 ticks per quarter, 1 tick = 1 ms
  midi::MidiFile file;
  file.format = 1;
  file.division = midi::Division::ticks_per_quarter(480);
  file.tracks.resize(2);  // both now, so neither reference below is invalidated
  midi::Track& conductor = file.tracks[0];
  conductor.events = {midi::Event::tempo(0, kTempo)};
  midi::Track& piano = file.tracks[1];
  piano.events.push_back(midi::Event::text_event(0, midi::meta::kTrackName, "Performance"));
  piano.events.push_back(midi::Event::program_change(0, 0, 0));
  auto tick_of = [](double s) { return std::max<int64_t>(0, std::llround(s * 1000)); };
  std::vector<midi::Note> ms_notes;
  ms_notes.reserve(notes.size());
  for (const PerformanceNote& n : notes) {
    ms_notes.push_back({0, 0, static_cast<uint8_t>(std::clamp(n.pitch, 0, 127)),
                        static_cast<uint8_t>(std::clamp(n.velocity, 1, 127)), 0, tick_of(n.start),
                        tick_of(n.end)});
  }
  std::vector<midi::Event> events = midi::note_events(ms_notes);
  piano.end_tick = events.empty() ? 0 : events.back().tick;
  for (midi::Event& e : events) piano.events.push_back(std::move(e));
  conductor.end_tick = piano.end_tick;
  return file;
}

std::string performance_token_name(int32_t token) {
  if (token < 0 || token >= V::kSize) return "?" + std::to_string(token);
  if (token < V::kNoteOff) return "ON" + std::to_string(token);
  if (token < V::kTimeShift) return "OFF" + std::to_string(token - V::kNoteOff);
  if (token < V::kVelocity) return "SHIFT" + std::to_string((token - V::kTimeShift + 1) * 10);
  if (token < V::kPad) return "VEL" + std::to_string(token - V::kVelocity + 1);
  return token == V::kPad ? "PAD" : token == V::kBos ? "BOS" : "EOS";
}

}  // namespace bachgen::tokenize
