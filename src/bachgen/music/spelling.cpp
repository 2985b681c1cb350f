// Pitch spelling on the line of fifths.
#include "bachgen/music/spelling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace bachgen::music {

namespace {

// Double flat to double sharp: Fbb (-15) .. B## (19).
constexpr int kLowest = -15, kHighest = 19;

int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// A voice's notes that overlap this many others at most are compared with each (a MIDI file
// holding hundreds of notes at once is not a chorale; its later ones are left to the centre).
constexpr size_t kMaxOverlaps = 64;

}  // namespace

int fifths_of_spelling(char step, int alter) {
  static const std::string letters = "FCGDAEB";
  const size_t at = letters.find(step);
  if (at == std::string::npos || step == '\0') throw std::invalid_argument(std::string("'") + step + "' is not a note letter A-G");
  return static_cast<int>(at) - 1 + 7 * alter;
}

Spelling spelling_of_fifths(int fifths) {
  static const char letters[] = "FCGDAEB";
  const int shifted = fifths + 1;  // F = 0
  const int alter = floor_div(shifted, 7);
  return Spelling{letters[shifted - 7 * alter], alter};
}

int pitch_class_of_fifths(int fifths) { return ((7 * fifths) % 12 + 12) % 12; }

int written_octave(int pitch, int fifths) {
  // The natural letter's pitch is pitch - alter; its octave is the written one.
  return floor_div(pitch - spelling_of_fifths(fifths).alter, 12) - 1;
}

std::string pitch_name(int pitch, int fifths) {
  const Spelling s = spelling_of_fifths(fifths);
  std::string name(1, s.step);
  for (int i = 0; i < s.alter; ++i) name += '#';
  for (int i = 0; i > s.alter; --i) name += 'b';
  return name + std::to_string(written_octave(pitch, fifths));
}

int tonic_fifths(const KeyGuess& key) { return key.fifths + (key.minor ? 3 : 0); }

std::vector<int> spell_notes(const std::vector<SpellNote>& notes, const KeyGuess& key, int64_t per_quarter,
                             const SpellOptions& o) {
  const size_t n = notes.size();
  std::vector<int> result(n, 0);
  if (n == 0) return result;
  if (per_quarter <= 0) throw std::invalid_argument("spell_notes: per_quarter must be positive");
  // The key's centre: the middle of a major scale's seven places (its second degree, tonic + 2);
  // for minor the tonic, the middle of the natural minor with its raised sixth and seventh.
  const double key_centre = key.minor ? tonic_fifths(key) : key.fifths + 2;

  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const SpellNote &x = notes[a], &y = notes[b];
    if (x.onset != y.onset) return x.onset < y.onset;
    if (x.voice != y.voice) return x.voice < y.voice;
    return x.pitch > y.pitch;
  });
  std::vector<double> on(n), off(n), length(n);
  std::vector<std::vector<int>> candidates(n);
  std::vector<int> q(n);
  std::vector<bool> fixed(n);
  for (size_t k = 0; k < n; ++k) {
    const SpellNote& note = notes[order[k]];
    on[k] = static_cast<double>(note.onset) / static_cast<double>(per_quarter);
    off[k] = static_cast<double>(std::max(note.end, note.onset + 1)) / static_cast<double>(per_quarter);
    length[k] = off[k] - on[k];
    if (note.fixed != kUnspelled) {
      fixed[k] = true;
      q[k] = note.fixed;
      continue;
    }
    const int pc = ((note.pitch % 12) + 12) % 12;
    // A minor key's leading tone is never written flat (C# in D minor, not Db).
    const bool leading_tone = key.minor && pc == (key.tonic + 11) % 12;
    // Only spellings whose written octave a score can name (-1 to 9: MIDI 0 is C-1, never B#-2);
    // the leading tone's rule gives way only where it would leave none (MIDI 0 in C# minor).
    for (const bool keep_leading_tone_rule : {true, false}) {
      for (int f = kLowest; f <= kHighest; ++f) {
        const int octave = written_octave(note.pitch, f);
        if (pitch_class_of_fifths(f) == pc && !(keep_leading_tone_rule && leading_tone && f < tonic_fifths(key)) && octave >= -1 && octave <= 9) {
          candidates[k].push_back(f);
        }
      }
      if (!candidates[k].empty()) break;
    }
    // Start nearest the key's centre (the flatter on a tie).
    int best = candidates[k].front();
    for (int f : candidates[k]) {
      if (std::abs(f - key_centre) < std::abs(best - key_centre)) best = f;
    }
    q[k] = best;
  }
  // Overlapping notes (they sound together at one's onset), found from the earlier of each pair.
  std::vector<std::vector<size_t>> overlaps(n);
  for (size_t k = 0; k < n; ++k) {
    for (size_t j = k + 1; j < n && on[j] < off[k] && overlaps[k].size() < kMaxOverlaps; ++j) {
      if (overlaps[j].size() < kMaxOverlaps) {
        overlaps[k].push_back(j);
        overlaps[j].push_back(k);
      }
    }
  }
  // The previous and next note of each voice.
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> prev(n, kNone), next(n, kNone);
  {
    std::vector<std::pair<int, size_t>> last;  // (voice, index)
    for (size_t k = 0; k < n; ++k) {
      const int v = notes[order[k]].voice;
      auto it = std::find_if(last.begin(), last.end(), [v](const auto& e) { return e.first == v; });
      if (it == last.end()) {
        last.emplace_back(v, k);
      } else {
        prev[k] = it->second;
        next[it->second] = k;
        it->second = k;
      }
    }
  }
  auto pitch = [&](size_t k) { return notes[order[k]].pitch; };
  // A step of one or two semitones between neighbours is a second: 5 or 2 places apart.
  auto step_cost = [&](size_t k, int f, size_t other, double weight) {
    if (other == kNone) return 0.0;
    const int semitones = std::abs(pitch(other) - pitch(k));
    const int apart = std::abs(f - q[other]);
    if ((semitones == 1 && apart != 5) || (semitones == 2 && apart != 2)) return weight;
    return 0.0;
  };

  std::vector<double> centre(n);
  for (int round = 0; round < o.max_rounds; ++round) {
    // The centre of gravity of each note's window (the others' spellings weighted by length, and
    // the key's), from this round's spellings.
    double sum = 0, weight = 0;
    size_t lo = 0, hi = 0;
    for (size_t k = 0; k < n; ++k) {
      while (hi < n && on[hi] <= on[k] + o.window_quarters) sum += q[hi] * length[hi], weight += length[hi], ++hi;
      while (on[lo] < on[k] - o.window_quarters) sum -= q[lo] * length[lo], weight -= length[lo], ++lo;
      centre[k] = (sum - q[k] * length[k] + o.key_weight * key_centre) / (weight - length[k] + o.key_weight);
    }
    size_t changed = 0;
    for (size_t k = 0; k < n; ++k) {
      if (fixed[k] || candidates[k].size() < 2) continue;
      int best = q[k];
      double best_cost = 0;
      bool first = true;
      for (int f : candidates[k]) {
        double cost = std::abs(f - centre[k]);
        for (size_t j : overlaps[k]) cost += o.chord_weight * std::max(0, std::abs(f - q[j]) - o.chord_span);
        cost += step_cost(k, f, prev[k], o.step_in_weight) + step_cost(k, f, next[k], o.step_out_weight);
        if (first || cost < best_cost - 1e-12) best = f, best_cost = cost, first = false;
      }
      if (best != q[k]) q[k] = best, ++changed;
    }
    if (changed == 0) break;
  }
  for (size_t k = 0; k < n; ++k) result[order[k]] = q[k];
  return result;
}

}  // namespace bachgen::music

namespace bachgen::music {

std::vector<SpelledNote> spelled_notes(const Chorale& c, const SpellOptions& options) {
  const ChoraleGrid& grid = c.grid;
  const bool kept = c.spellings.size() == grid.steps();
  std::vector<SpelledNote> out;
  std::vector<SpellNote> notes;
  for (int v = 0; v < kVoices; ++v) {
    for (size_t t = 0; t < grid.steps(); ++t) {
      if (!grid.is_onset(t, v)) continue;
      size_t end = t + 1;
      while (end < grid.steps() && grid.pitches[end][v] == grid.pitches[t][v] && !grid.is_onset(end, v)) ++end;
      const int pitch = grid.pitches[t][v];
      int fixed = kept ? c.spellings[t][static_cast<size_t>(v)] : kUnspelled;
      if (fixed != kUnspelled && pitch_class_of_fifths(fixed) != ((pitch % 12) + 12) % 12) fixed = kUnspelled;  // not this pitch
      out.push_back({v, static_cast<int64_t>(t), static_cast<int64_t>(end - t), pitch, 0});
      notes.push_back({pitch, static_cast<int64_t>(t), static_cast<int64_t>(end), v, fixed});
    }
  }
  const std::vector<int> fifths = spell_notes(notes, c.key_or_guess(), 4, options);
  for (size_t i = 0; i < out.size(); ++i) out[i].fifths = fifths[i];
  return out;
}

}  // namespace bachgen::music
