// The musician's figures of four-part music.
#include "bachgen/music/chorale_figures.h"

#include <array>
#include <cstdlib>

#include "bachgen/music/key.h"

namespace bachgen::music {

namespace {

double percent(int64_t part, int64_t whole) { return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole); }

unsigned mask_of(std::initializer_list<int> pitch_classes, int root) {
  unsigned mask = 0;
  for (int pc : pitch_classes) mask |= 1u << ((pc + root) % 12);
  return mask;
}

// Scale degrees above the tonic: major, and minor with both its raised 6th and 7th.
constexpr std::array<int, 7> kMajorScale = {0, 2, 4, 5, 7, 9, 11};
constexpr std::array<int, 9> kMinorScale = {0, 2, 3, 5, 7, 8, 9, 10, 11};

// One past the last step where any voice sounds (0 for silence).
size_t sounding_end(const ChoraleGrid& grid) {
  for (size_t t = grid.steps(); t > 0; --t) {
    for (int v = 0; v < kVoices; ++v) {
      if (grid.pitches[t - 1][static_cast<size_t>(v)] != kSilent) return t;
    }
  }
  return 0;
}

}  // namespace

bool in_key_scale(int pitch, const KeyGuess& key) {
  const int degree = ((pitch - key.tonic) % 12 + 12) % 12;
  if (key.minor) {
    for (int d : kMinorScale) if (d == degree) return true;
    return false;
  }
  for (int d : kMajorScale) if (d == degree) return true;
  return false;
}

bool ends_on_tonic(const ChoraleGrid& grid, const KeyGuess& key) {
  const size_t end = sounding_end(grid);
  if (end == 0) return false;
  const GridStep& chord = grid.pitches[end - 1];
  const int bass = chord[kVoices - 1];
  if (bass == kSilent || ((bass - key.tonic) % 12 + 12) % 12 != 0) return false;
  unsigned degrees = 0;
  for (int v = 0; v < kVoices; ++v) {
    if (chord[static_cast<size_t>(v)] != kSilent) degrees |= 1u << (((chord[static_cast<size_t>(v)] - key.tonic) % 12 + 12) % 12);
  }
  const unsigned major = mask_of({0, 4, 7}, 0), minor = mask_of({0, 3, 7}, 0);
  if ((degrees & ~major) == 0) return true;  // a major key's tonic, or a minor key's Picardy third
  return key.minor && (degrees & ~minor) == 0;
}

bool fits_one_chord(unsigned pitch_class_mask) {
  // Each chord on C: triads (major, minor, diminished, augmented), then sevenths (dominant,
  // major, minor, half-diminished, diminished).
  static const std::array<unsigned, 9> kChordsOnC = {mask_of({0, 4, 7}, 0),     mask_of({0, 3, 7}, 0),     mask_of({0, 3, 6}, 0),
                                                     mask_of({0, 4, 8}, 0),     mask_of({0, 4, 7, 10}, 0), mask_of({0, 4, 7, 11}, 0),
                                                     mask_of({0, 3, 7, 10}, 0), mask_of({0, 3, 6, 10}, 0), mask_of({0, 3, 6, 9}, 0)};
  for (const unsigned chord : kChordsOnC) {
    for (int root = 0; root < 12; ++root) {
      const unsigned on_root = ((chord << root) | (chord >> (12 - root))) & 0xFFFu;
      if ((pitch_class_mask & ~on_root) == 0) return true;
    }
  }
  return false;
}

ChoraleFigures chorale_figures(const ChoraleGrid& grid) {
  ChoraleFigures f;
  const size_t end = sounding_end(grid);
  if (end == 0) return f;
  f.pieces = 1;
  f.quarters_x4 = static_cast<int64_t>(end);
  const KeyGuess key = guess_key(grid);
  std::array<int, kVoices> last_note;
  last_note.fill(kSilent);
  for (size_t t = 0; t < end; ++t) {
    const GridStep& step = grid.pitches[t];
    unsigned sounding = 0;
    for (int v = 0; v < kVoices; ++v) {
      const int p = step[static_cast<size_t>(v)];
      if (p == kSilent) continue;
      sounding |= 1u << (p % 12);
      const bool onset = t == 0 || grid.pitches[t - 1][static_cast<size_t>(v)] != p;  // the hold rule
      if (!onset) continue;
      ++f.onsets;
      f.odd_step_onsets += t % 2 == 1;
      f.scale_onsets += in_key_scale(p, key);
      if (v > 0) ++f.lower_onsets;
      if ((v == 1 || v == 2) && last_note[static_cast<size_t>(v)] != kSilent) {
        const int move = std::abs(p - last_note[static_cast<size_t>(v)]);
        ++f.inner_moves;
        f.inner_semitones += move;
        f.inner_leaps += move > 4;
      }
      last_note[static_cast<size_t>(v)] = p;
    }
    if (t % 4 == 0 && sounding != 0) {
      ++f.beats;
      f.chord_beats += fits_one_chord(sounding);
    }
  }
  f.tonic_endings = ends_on_tonic(grid, key);
  return f;
}

void ChoraleFigures::add(const ChoraleFigures& o) {
  pieces += o.pieces;
  onsets += o.onsets;
  odd_step_onsets += o.odd_step_onsets;
  scale_onsets += o.scale_onsets;
  tonic_endings += o.tonic_endings;
  beats += o.beats;
  chord_beats += o.chord_beats;
  lower_onsets += o.lower_onsets;
  quarters_x4 += o.quarters_x4;
  inner_moves += o.inner_moves;
  inner_semitones += o.inner_semitones;
  inner_leaps += o.inner_leaps;
}

double ChoraleFigures::odd_step_onsets_percent() const { return percent(odd_step_onsets, onsets); }
double ChoraleFigures::scale_notes_percent() const { return percent(scale_onsets, onsets); }
double ChoraleFigures::tonic_endings_percent() const { return percent(tonic_endings, pieces); }
double ChoraleFigures::chord_beats_percent() const { return percent(chord_beats, beats); }
double ChoraleFigures::lower_onsets_per_quarter() const {
  return quarters_x4 == 0 ? 0.0 : static_cast<double>(lower_onsets) / (3.0 * static_cast<double>(quarters_x4) / 4.0);
}
double ChoraleFigures::inner_mean_interval() const {
  return inner_moves == 0 ? 0.0 : static_cast<double>(inner_semitones) / static_cast<double>(inner_moves);
}
double ChoraleFigures::inner_leaps_percent() const { return percent(inner_leaps, inner_moves); }

void Agreement::add(const Agreement& o) {
  bass_beats += o.bass_beats;
  same_bass += o.same_bass;
  chord_beats += o.chord_beats;
  same_chord += o.same_chord;
}

double Agreement::bass_percent() const { return bass_beats == 0 ? 0 : 100.0 * static_cast<double>(same_bass) / static_cast<double>(bass_beats); }
double Agreement::chord_percent() const {
  return chord_beats == 0 ? 0 : 100.0 * static_cast<double>(same_chord) / static_cast<double>(chord_beats);
}

Agreement agreement_with(const ChoraleGrid& ours, const ChoraleGrid& reference) {
  Agreement a;
  const size_t steps = std::min(ours.steps(), reference.steps());
  auto mask = [](const GridStep& step) {
    unsigned m = 0;
    for (int8_t p : step) {
      if (p != kSilent) m |= 1u << (p % 12);
    }
    return m;
  };
  for (size_t t = 0; t < steps; t += 4) {
    const int8_t b = ours.pitches[t][kVoices - 1], r = reference.pitches[t][kVoices - 1];
    if (b != kSilent && r != kSilent) {
      ++a.bass_beats;
      a.same_bass += b % 12 == r % 12;
    }
    const unsigned mo = mask(ours.pitches[t]), mr = mask(reference.pitches[t]);
    if (mo != 0 && mr != 0) {
      ++a.chord_beats;
      a.same_chord += mo == mr;
    }
  }
  return a;
}

}  // namespace bachgen::music
