// Score construction from and to MIDI files and the 16th-note grid.
#include "bachgen/music/score.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <tuple>

#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/notes.h"

namespace bachgen::music {

void Score::sort_notes() {
  auto order = [](const ScoreNote& a, const ScoreNote& b) {
    return std::tie(a.onset, a.voice, a.pitch) < std::tie(b.onset, b.voice, b.pitch);
  };
  // Notes from MIDI arrive sorted already; checking is much cheaper than sorting.
  if (!std::is_sorted(notes.begin(), notes.end(), order)) {
    std::stable_sort(notes.begin(), notes.end(), order);
  }
}

Score read_score_midi(const std::string& path) {
  try {
    return score_from_midi(midi::read_midi_file(path));
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
}

Score score_from_midi(const midi::MidiFile& file) {
  if (file.division.is_smpte()) {
    throw std::invalid_argument("score_from_midi: SMPTE time division is not supported");
  }
  Score score;
  score.ticks_per_quarter = file.division.ticks_per_quarter();
  const std::vector<midi::Note> notes = midi::extract_notes(file);
  std::vector<int> voice_of_track(file.tracks.size(), -1);
  for (const midi::Note& n : notes) voice_of_track[static_cast<size_t>(n.track)] = 0;
  for (size_t t = 0; t < file.tracks.size(); ++t) {
    if (voice_of_track[t] < 0) continue;
    voice_of_track[t] = score.voices();
    const std::string name = file.tracks[t].name();
    score.voice_names.push_back(name.empty() ? "Voice " + std::to_string(score.voices() + 1)
                                             : name);
  }
  for (const midi::Note& n : notes) {
    score.notes.push_back({n.pitch, n.start, n.end - n.start, n.velocity,
                           voice_of_track[static_cast<size_t>(n.track)]});
    score.end_tick = std::max(score.end_tick, n.end);
  }
  score.tempos = midi::TempoMap::of_file(file).changes();
  score.notes.reserve(notes.size());
  for (const midi::Track& t : file.tracks) {
    score.end_tick = std::max(score.end_tick, t.end_tick);
    for (const midi::Event& e : t.events) {
      if (e.type != midi::EventType::kMeta) continue;
      if (auto ts = midi::decode_time_signature(e)) score.time_signatures.push_back({e.tick, *ts});
      if (auto ks = midi::decode_key_signature(e)) score.key_signatures.push_back({e.tick, *ks});
    }
  }
  auto by_tick = [](const auto& a, const auto& b) { return a.tick < b.tick; };
  std::stable_sort(score.time_signatures.begin(), score.time_signatures.end(), by_tick);
  std::stable_sort(score.key_signatures.begin(), score.key_signatures.end(), by_tick);
  score.sort_notes();
  return score;
}

midi::MidiFile score_to_midi(const Score& score, int program) {
  midi::MidiFile file;
  file.format = 1;
  file.division = midi::Division::ticks_per_quarter(score.ticks_per_quarter);
  midi::Track& conductor = file.tracks.emplace_back();
  for (const TimedTimeSignature& ts : score.time_signatures) {
    conductor.events.push_back(midi::Event::time_signature(
        ts.tick, ts.signature.numerator, ts.signature.denominator, ts.signature.clocks_per_click,
        ts.signature.thirty_seconds_per_quarter));
  }
  for (const TimedKeySignature& ks : score.key_signatures) {
    conductor.events.push_back(
        midi::Event::key_signature(ks.tick, ks.signature.sharps_flats, ks.signature.minor));
  }
  for (const midi::TempoChange& t : score.tempos) {
    conductor.events.push_back(midi::Event::tempo(t.tick, t.us_per_quarter));
  }
  std::stable_sort(conductor.events.begin(), conductor.events.end(),
                   [](const midi::Event& a, const midi::Event& b) { return a.tick < b.tick; });
  conductor.end_tick = score.end_tick;

  const int voices = std::max(score.voices(), [&] {
    int v = 0;
    for (const ScoreNote& n : score.notes) v = std::max(v, n.voice + 1);
    return v;
  }());
  for (int v = 0; v < voices; ++v) {
    midi::Track& track = file.tracks.emplace_back();
    const int channel = v % 16;
    const std::string name = v < score.voices() ? score.voice_names[static_cast<size_t>(v)]
                                                : "Voice " + std::to_string(v + 1);
    track.events.push_back(midi::Event::text_event(0, midi::meta::kTrackName, name));
    track.events.push_back(midi::Event::program_change(0, channel, program));
    std::vector<midi::Note> notes;
    for (const ScoreNote& n : score.notes) {
      if (n.voice != v) continue;
      notes.push_back({0, static_cast<uint8_t>(channel), static_cast<uint8_t>(n.pitch),
                       static_cast<uint8_t>(n.velocity), 0, n.onset, n.onset + n.duration});
    }
    for (midi::Event& e : midi::note_events(notes)) track.events.push_back(std::move(e));
    track.end_tick = score.end_tick;
  }
  return file;
}

ChoraleGrid score_to_grid(const Score& score, const GridOptions& options, GridStats* stats) {
  GridStats local;
  GridStats& st = stats ? *stats : local;
  if (score.ticks_per_quarter <= 0 || score.ticks_per_quarter % 4 != 0) {
    throw std::invalid_argument("score_to_grid: " + std::to_string(score.ticks_per_quarter) +
                                " ticks per quarter is not a multiple of 4");
  }
  const int64_t step = score.ticks_per_quarter / 4;
  // Rounds to the nearest step. 32-bit division where the ticks allow (always, in practice):
  // 64-bit division dominated this function's time.
  auto snap = [step](int64_t tick) -> int64_t {
    const int64_t rounded = tick + step / 2;
    if (rounded >= 0 && rounded <= INT32_MAX) {
      return static_cast<uint32_t>(rounded) / static_cast<uint32_t>(step);
    }
    return rounded / step;
  };
  const int64_t steps = snap(score.end_tick);
  if (steps > options.max_steps) {
    throw std::invalid_argument("the music is " + std::to_string(steps) + " 16ths long (" + std::to_string((steps + 15) / 16) +
                                " bars of 4/4); at most " + std::to_string(options.max_steps) + " 16ths (" +
                                std::to_string(options.max_steps / 16) + " bars) are taken");
  }
  if (static_cast<int64_t>(score.notes.size()) > options.max_notes) {
    throw std::invalid_argument("the music has " + std::to_string(score.notes.size()) + " notes; at most " +
                                std::to_string(options.max_notes) + " are taken");
  }
  ChoraleGrid grid;
  grid.pitches.assign(static_cast<size_t>(steps), GridStep{kSilent, kSilent, kSilent, kSilent});
  grid.onsets.assign(static_cast<size_t>(steps), {false, false, false, false});
  const int voices = std::min(options.voices, kVoices);
  // Four voices fill 4 cells a step; overlapping notes (divisi) a few more. Far more is no
  // music, and would take time out of all proportion to the file (notes spanning the piece).
  const int64_t budget = 16 * std::max<int64_t>(steps, 16);
  int64_t work = 0;
  const int64_t divisi_before = st.divisi_steps;
  for (const ScoreNote& n : score.notes) {
    if (n.voice < 0 || n.voice >= voices) continue;
    ++st.notes;
    const int64_t first = snap(n.onset);
    if (first * step != n.onset) ++st.off_grid_onsets;
    const int64_t last = std::max(snap(n.onset + n.duration), first + 1);
    work += std::min(last, steps) - std::min(first, steps);
    if (work > budget) {
      throw std::invalid_argument("the notes overlap far more than four voices do (more than " + std::to_string(budget / std::max<int64_t>(steps, 1)) +
                                  " notes sounding per voice and step)");
    }
    const bool upper = n.voice < 2;
    for (int64_t t = first; t < last && t < steps; ++t) {
      int8_t& cell = grid.pitches[static_cast<size_t>(t)][n.voice];
      if (cell != kSilent) {
        ++st.divisi_steps;
        const bool keep_new = upper ? n.pitch > cell : n.pitch < cell;
        if (!keep_new) continue;
      }
      cell = static_cast<int8_t>(n.pitch);
      grid.onsets[static_cast<size_t>(t)][n.voice] = (t == first);
    }
  }
  // Where a divisi swapped the kept pitch mid-note, the new pitch starts there.
  for (size_t t = 0; st.divisi_steps > divisi_before && t < grid.steps(); ++t) {
    for (int v = 0; v < kVoices; ++v) {
      const int8_t p = grid.pitches[t][v];
      if (p != kSilent && (t == 0 || grid.pitches[t - 1][v] != p)) grid.onsets[t][v] = true;
    }
  }
  return grid;
}

Score grid_to_score(const ChoraleGrid& grid, int ticks_per_quarter, uint32_t us_per_quarter,
                    int velocity) {
  Score score;
  score.ticks_per_quarter = ticks_per_quarter;
  score.voice_names = satb_voice_names();
  score.tempos = {{0, us_per_quarter}};
  score.time_signatures = {{0, midi::TimeSignature{}}};
  const int64_t step = ticks_per_quarter / 4;
  score.end_tick = static_cast<int64_t>(grid.steps()) * step;
  for (int v = 0; v < kVoices; ++v) {
    size_t t = 0;
    while (t < grid.steps()) {
      const int pitch = grid.pitches[t][v];
      if (pitch == kSilent) {
        ++t;
        continue;
      }
      size_t end = t + 1;
      while (end < grid.steps() && grid.pitches[end][v] == pitch && !grid.is_onset(end, v)) ++end;
      score.notes.push_back({pitch, static_cast<int64_t>(t) * step,
                             static_cast<int64_t>(end - t) * step, velocity, v});
      t = end;
    }
  }
  score.sort_notes();
  return score;
}

}  // namespace bachgen::music
