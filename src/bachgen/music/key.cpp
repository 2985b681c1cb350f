// Key analysis: Krumhansl-Kessler profiles and key names.
#include "bachgen/music/key.h"

#include "bachgen/music/voice_leading.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cctype>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace bachgen::music {

namespace {

// Krumhansl-Kessler key profiles, tonic first.
constexpr std::array<double, 12> kMajorProfile{6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
constexpr std::array<double, 12> kMinorProfile{6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

double correlation(const std::array<double, 12>& x, const std::array<double, 12>& profile, int tonic) {
  double mx = 0, my = 0;
  for (int i = 0; i < 12; ++i) {
    mx += x[static_cast<size_t>(i)];
    my += profile[static_cast<size_t>(i)];
  }
  mx /= 12;
  my /= 12;
  double sxy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < 12; ++i) {
    const double a = x[static_cast<size_t>((i + tonic) % 12)] - mx, b = profile[static_cast<size_t>(i)] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx == 0 ? 0 : sxy / std::sqrt(sxx * syy);
}

// Fifths of a major key by tonic pitch class, choosing the spelling with fewer accidentals
// (F# major, 6 sharps, over Gb major, 6 flats).
constexpr std::array<int, 12> kMajorFifths{0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5};

}  // namespace

std::string KeyGuess::name() const {
  static const std::array<const char*, 12> sharp{"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
  static const std::array<const char*, 12> flat{"C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"};
  return std::string((fifths < 0 ? flat : sharp)[static_cast<size_t>(tonic)]) + (minor ? " minor" : " major");
}

KeyGuess parse_key(const std::string& text) {
  std::string tonic, mode;
  {
    std::istringstream words(text);
    words >> tonic >> mode;
    std::string extra;
    if (words >> extra) tonic.clear();  // three words: not a key
  }
  if (mode.empty() && tonic.size() > 1 && tonic.back() == 'm') {  // "F#m"
    mode = "minor";
    tonic.pop_back();
  }
  for (char& c : mode) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::array<int, 7> letter_pc{9, 11, 0, 2, 4, 5, 7};  // A B C D E F G
  const char letter = tonic.empty() ? '?' : static_cast<char>(std::toupper(static_cast<unsigned char>(tonic[0])));
  if (letter < 'A' || letter > 'G') {
    throw std::invalid_argument("'" + text + "' is not a key: write a tonic and a mode, e.g. \"D minor\" or \"Eb major\"");
  }
  int pc = letter_pc[static_cast<size_t>(letter - 'A')];
  for (size_t i = 1; i < tonic.size(); ++i) {
    if (tonic[i] == '#') {
      ++pc;
    } else if (tonic[i] == 'b') {
      --pc;
    } else {
      throw std::invalid_argument("'" + text + "' is not a key: '" + tonic + "' is not a tonic (A-G with # or b)");
    }
  }
  KeyGuess key;
  key.tonic = ((pc % 12) + 12) % 12;
  if (mode == "minor" || mode == "min" || mode == "m") {
    key.minor = true;
  } else if (mode == "major" || mode == "maj" || mode.empty()) {
    key.minor = false;
  } else {
    throw std::invalid_argument("'" + text + "' is not a key: the mode must be major or minor");
  }
  static const std::array<int, 12> major_fifths{0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5};
  key.fifths = major_fifths[static_cast<size_t>(key.minor ? (key.tonic + 3) % 12 : key.tonic)];
  if (tonic.find('b', 1) != std::string::npos && key.fifths > 0) key.fifths -= 12;  // Gb rather than F#
  if (tonic.find('#', 1) != std::string::npos && key.fifths < 0) key.fifths += 12;
  return key;
}

KeyGuess transposed_key(const KeyGuess& key, int semitones) {
  KeyGuess out = key;
  out.tonic = ((key.tonic + semitones) % 12 + 12) % 12;
  out.fifths = kMajorFifths[static_cast<size_t>(key.minor ? (out.tonic + 3) % 12 : out.tonic)];
  return out;
}

KeyGuess guess_key(const ChoraleGrid& grid) {
  std::array<double, 12> histogram{};
  for (const GridStep& step : grid.pitches) {
    for (int8_t p : step) {
      if (p != kSilent) histogram[static_cast<size_t>(p % 12)] += 1;
    }
  }
  KeyGuess best;
  double best_r = -2;
  for (int tonic = 0; tonic < 12; ++tonic) {
    for (bool minor : {false, true}) {
      const double r = correlation(histogram, minor ? kMinorProfile : kMajorProfile, tonic);
      if (r > best_r + 1e-12) {
        best_r = r;
        best.tonic = tonic;
        best.minor = minor;
        // A minor key has the signature of its relative major, three semitones up.
        best.fifths = kMajorFifths[static_cast<size_t>(minor ? (tonic + 3) % 12 : tonic)];
      }
    }
  }
  return best;
}
KeyChange transpose_into_key(ChoraleGrid& grid, const KeyGuess& target) {
  const KeyGuess found = guess_key(grid);
  KeyChange change;
  change.from = found.name();
  change.mode_matches = found.minor == target.minor;
  // The tonic moves to the target's; of the octave choices, the one that keeps the most notes
  // inside their voice's range wins, the smaller shift on a tie.
  const int base = ((target.tonic - found.tonic) % 12 + 12) % 12;
  int best = 0;
  int64_t best_inside = -1;
  for (int shift : {base, base - 12, base + 12, base - 24}) {
    int64_t inside = 0;
    bool fits = true;  // MIDI's 0-127
    for (const GridStep& step : grid.pitches) {
      for (size_t v = 0; v < 4; ++v) {
        if (step[v] == kSilent) continue;
        const int p = step[v] + shift;
        fits = fits && p >= 0 && p <= 127;
        inside += p >= kVoiceLowest[v] && p <= kVoiceHighest[v];
      }
    }
    if (fits && (inside > best_inside || (inside == best_inside && std::abs(shift) < std::abs(best)))) {
      best = shift;
      best_inside = inside;
    }
  }
  for (GridStep& step : grid.pitches) {
    for (int8_t& p : step) {
      if (p != kSilent) p = static_cast<int8_t>(p + best);
    }
  }
  change.semitones = best;
  change.to = change.mode_matches ? target.name() : guess_key(grid).name();
  return change;
}

}  // namespace bachgen::music
