// Melody input: the note text, MIDI (skyline) and MusicXML (pugixml).
#include "bachgen/music/melody.h"

#include "bachgen/music/spelling.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "bachgen/io/files.h"
#include "bachgen/io/utf8.h"
#include "bachgen/io/zip_archive.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/meter.h"
#include "bachgen/music/musicxml_part.h"
#include "bachgen/music/score.h"

namespace bachgen::music {

namespace {

constexpr size_t kMaxMelodySteps = 1 << 16;  // reading limit; check_soprano sets the musical one
constexpr size_t kMaxFileBytes = 64u << 20;

// The first character of `text` for a message: 'X' for a printable ASCII one, the whole UTF-8
// character for another ('é', '😀': never half of one), or the byte in hex when the bytes are
// not UTF-8.
std::string first_character(const std::string& text) {
  const size_t n = io::utf8_sequence_length(text, 0);
  const auto c = static_cast<unsigned char>(text[0]);
  if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7F))) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "byte 0x%02X", c);
    return hex;
  }
  return "'" + text.substr(0, n) + "'";
}

// "C#4", "Bb3", "D5": a MIDI number (and *fifths its spelling's place on the line of fifths,
// kUnspelled beyond a double sharp or flat), or throws std::invalid_argument.
int parse_pitch_name(const std::string& text, int* fifths) {
  if (text.empty()) throw std::invalid_argument("no pitch");
  const int pc = pitch_class_of_letter(static_cast<char>(std::toupper(static_cast<unsigned char>(text[0]))));
  if (pc < 0) throw std::invalid_argument(first_character(text) + " is not a pitch name (A-G, or r for a rest)");
  size_t i = 1;
  int alter = 0;
  while (i < text.size() && (text[i] == '#' || text[i] == 'b')) alter += text[i++] == '#' ? 1 : -1;
  const std::string octave_text = text.substr(i);
  if (octave_text.empty()) throw std::invalid_argument("no octave (write C4 for middle C)");
  size_t used = 0;
  int octave = 0;
  try {
    octave = std::stoi(octave_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != octave_text.size() || octave < -1 || octave > 9) {
    throw std::invalid_argument("'" + octave_text + "' is not an octave (-1 to 9; C4 is middle C)");
  }
  const int midi = 12 * (octave + 1) + pc + alter;
  if (midi < 0 || midi > 127) throw std::invalid_argument("outside MIDI's pitches 0-127");
  *fifths = std::abs(alter) <= 2 ? fifths_of_spelling(static_cast<char>(std::toupper(static_cast<unsigned char>(text[0]))), alter) : kUnspelled;
  return midi;
}

// "1", "0.5", "3/2": quarters -> 16th steps, or throws.
int parse_duration(const std::string& text) {
  double quarters = 0;
  const size_t slash = text.find('/');
  auto number = [](const std::string& s) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (s.empty() || used != s.size() || !std::isfinite(v)) throw std::invalid_argument("'" + s + "' is not a duration");
    return v;
  };
  if (slash == std::string::npos) {
    quarters = number(text);
  } else {
    const double den = number(text.substr(slash + 1));
    if (den == 0) throw std::invalid_argument("a duration divided by zero");
    quarters = number(text.substr(0, slash)) / den;
  }
  const double steps = quarters * 4;
  if (!(steps > 0) || steps > static_cast<double>(kMaxMelodySteps)) {
    throw std::invalid_argument("the duration must be positive and below 16384 quarters");
  }
  if (std::fabs(steps - std::round(steps)) > 1e-9) {
    throw std::invalid_argument("off the 16th grid (a duration must be a multiple of 0.25 quarters)");
  }
  return static_cast<int>(std::lround(steps));
}

void append(Melody& m, int pitch, int steps, bool onset, int fifths) {
  if (m.pitches.size() + static_cast<size_t>(steps) > kMaxMelodySteps) {
    throw std::invalid_argument("the melody is longer than " + std::to_string(kMaxMelodySteps) + " 16ths");
  }
  for (int k = 0; k < steps; ++k) {
    m.pitches.push_back(static_cast<int8_t>(pitch));
    m.onsets.push_back(onset && k == 0 && pitch != kSilent);
    m.spellings.push_back(onset && k == 0 && pitch != kSilent ? fifths : kUnspelled);
  }
}


}  // namespace

Melody parse_melody_text(const std::string& text) {
  Melody m;
  std::istringstream in(text);
  std::string item;
  int item_number = 0;
  int last_steps = 4;
  int tied_pitch = -1;          // the pitch a ~ promised to continue
  size_t last_bar_line = 0;     // step of the previous bar line
  bool seen_bar_line = false;
  while (in >> item) {
    ++item_number;
    const std::string where = "item " + std::to_string(item_number) + " ('" + item + "')";
    try {
      if (item == "|") {
        const size_t here = m.steps();
        const size_t bar = static_cast<size_t>(m.steps_per_bar);
        if (!seen_bar_line) {
          if (here > bar) throw std::invalid_argument("the first bar holds " + std::to_string(here) + " 16ths; the meter allows " + std::to_string(bar));
          m.pickup_steps = here == bar ? 0 : static_cast<int>(here);
          if (here == 0) throw std::invalid_argument("a bar line before any note");
        } else if (here - last_bar_line != bar) {
          throw std::invalid_argument("this bar holds " + std::to_string(here - last_bar_line) + " 16ths; the meter needs " + std::to_string(bar));
        }
        seen_bar_line = true;
        last_bar_line = here;
        continue;
      }
      if (item_number == 1 && std::isdigit(static_cast<unsigned char>(item[0])) && item.find('/') != std::string::npos) {
        const size_t slash = item.find('/');
        int num = 0, den = 0;
        try {
          num = std::stoi(item.substr(0, slash));
          den = std::stoi(item.substr(slash + 1));
        } catch (const std::exception&) {
          num = -1;
        }
        m.steps_per_bar = steps_per_bar_of(num, den);
        if (m.steps_per_bar <= 0) throw std::invalid_argument("not a time signature this grid can hold (N/D with D = 1, 2, 4, 8 or 16)");
        continue;
      }
      std::string body = item;
      bool tie = false;
      if (!body.empty() && body.back() == '~') {
        tie = true;
        body.pop_back();
      }
      const size_t colon = body.find(':');
      const std::string name = body.substr(0, colon);
      if (colon != std::string::npos) last_steps = parse_duration(body.substr(colon + 1));
      const bool rest = name == "r" || name == "R";
      int fifths = kUnspelled;
      const int pitch = rest ? kSilent : parse_pitch_name(name, &fifths);
      if (rest && tie) throw std::invalid_argument("a rest cannot be tied");
      if (tied_pitch >= 0 && pitch != tied_pitch) throw std::invalid_argument("a tie must continue the same pitch");
      append(m, pitch, last_steps, tied_pitch < 0, fifths);
      tied_pitch = tie ? pitch : -1;
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
  }
  if (tied_pitch >= 0) throw std::invalid_argument("the last note is tied to nothing");
  if (m.pitches.empty()) throw std::invalid_argument("no notes");
  return m;
}

// A melody read from a score: the top sounding note of each 16th step (below).
Melody melody_of_score(const Score& score, const std::string& path);

Melody read_melody_midi(const std::string& path) { return melody_of_score(read_score_midi(path), path); }

Melody parse_melody_midi(const std::vector<uint8_t>& bytes, const std::string& name) {
  Score score;
  try {
    score = score_from_midi(midi::parse_midi(bytes, name));
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind(name, 0) == 0 ? what : name + ": " + what);
  }
  return melody_of_score(score, name);
}

Melody melody_of_score(const Score& score, const std::string& path) {
  Melody m;
  const int tpq = score.ticks_per_quarter;
  if (tpq % 4 != 0) throw std::runtime_error(path + ": " + std::to_string(tpq) + " ticks per quarter cannot be split into 16ths");
  const int64_t sixteenth = tpq / 4;
  if (!score.time_signatures.empty()) {
    const midi::TimeSignature& ts = score.time_signatures.front().signature;
    m.steps_per_bar = steps_per_bar_of(ts.numerator, ts.denominator);
    if (m.steps_per_bar <= 0) {
      throw std::runtime_error(path + ": time signature " + std::to_string(ts.numerator) + "/" + std::to_string(ts.denominator) + " does not fit the 16th grid");
    }
  }
  if (!score.tempos.empty() && score.tempos.front().us_per_quarter > 0) {
    m.tempo_bpm = std::clamp(60e6 / score.tempos.front().us_per_quarter, 10.0, 400.0);
  }
  if (score.notes.empty()) throw std::runtime_error(path + ": no notes");
  size_t steps = 0;
  for (const ScoreNote& n : score.notes) {
    if (n.onset % sixteenth != 0) {
      throw std::runtime_error(path + ": a note (pitch " + std::to_string(n.pitch) + ") starts at tick " + std::to_string(n.onset) +
                               ", off the 16th grid (" + std::to_string(sixteenth) + " ticks)");
    }
    const size_t first = static_cast<size_t>(n.onset / sixteenth);
    const size_t length = std::max<size_t>(1, static_cast<size_t>(std::llround(static_cast<double>(n.duration) / sixteenth)));
    if (first + length > kMaxMelodySteps) throw std::runtime_error(path + ": longer than " + std::to_string(kMaxMelodySteps) + " 16ths");
    steps = std::max(steps, first + length);
  }
  m.pitches.assign(steps, kSilent);
  m.onsets.assign(steps, false);
  for (const ScoreNote& n : score.notes) {  // the skyline: the highest note sounding at each step
    const size_t first = static_cast<size_t>(n.onset / sixteenth);
    const size_t length = std::max<size_t>(1, static_cast<size_t>(std::llround(static_cast<double>(n.duration) / sixteenth)));
    for (size_t t = first; t < first + length; ++t) {
      if (n.pitch > m.pitches[t]) {
        m.pitches[t] = static_cast<int8_t>(n.pitch);
        m.onsets[t] = t == first;
      } else if (n.pitch == m.pitches[t] && t == first) {
        m.onsets[t] = true;  // struck again
      }
    }
  }
  // A note that became the top line in mid-course (the one above it ended) starts there.
  for (size_t t = 0; t < steps; ++t) {
    if (m.pitches[t] != kSilent && !m.onsets[t] && (t == 0 || m.pitches[t - 1] != m.pitches[t])) m.onsets[t] = true;
  }
  return m;
}

Melody parse_melody_musicxml(const std::string& document, const std::string& name) {
  pugi::xml_document doc;
  const pugi::xml_node root = load_score_partwise(doc, document, name);
  const pugi::xml_node part = root.child("part");
  if (!part) throw std::runtime_error(name + ": the score has no part");
  PartLine line = read_musicxml_part(part, name);
  // Trailing rests are not part of the melody.
  while (!line.pitches.empty() && line.pitches.back() == kSilent) {
    line.pitches.pop_back();
    line.onsets.pop_back();
    line.fermatas.pop_back();
    line.spellings.pop_back();
  }
  if (line.pitches.empty()) throw std::runtime_error(name + ": the first part has no notes");
  Melody m;
  m.pitches = std::move(line.pitches);
  m.onsets = std::move(line.onsets);
  m.fermatas = std::move(line.fermatas);
  m.spellings = std::move(line.spellings);
  m.steps_per_bar = line.steps_per_bar;
  m.pickup_steps = line.pickup_steps;
  m.tempo_bpm = line.tempo_bpm;
  m.key = line.key;
  return m;
}

namespace {

std::vector<uint8_t> read_melody_file(const std::string& path) {
  try {
    return io::read_file_bytes(path, kMaxFileBytes);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace

Melody read_melody_musicxml(const std::string& path) {
  const std::vector<uint8_t> bytes = read_melody_file(path);
  return parse_melody_musicxml(std::string(bytes.begin(), bytes.end()), path);
}

Melody parse_melody_mxl(const std::vector<uint8_t>& archive, const std::string& name) {
  std::string entry;
  const std::string document = musicxml_of_mxl(archive, name, &entry);
  return parse_melody_musicxml(document, name + ":" + entry);
}

Melody read_melody_mxl(const std::string& path) { return parse_melody_mxl(read_melody_file(path), path); }

Melody parse_melody(const std::vector<uint8_t>& bytes, MelodyFormat format, const std::string& name) {
  switch (format) {
    case MelodyFormat::kMidi: return parse_melody_midi(bytes, name);
    case MelodyFormat::kMusicXml: return parse_melody_musicxml(std::string(bytes.begin(), bytes.end()), name);
    case MelodyFormat::kMxl: return parse_melody_mxl(bytes, name);
  }
  throw std::invalid_argument("no such melody format");
}

Melody read_melody(const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto ends_with = [&lower](const std::string& s) {
    return lower.size() >= s.size() && lower.compare(lower.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".mid") || ends_with(".midi")) return read_melody_midi(path);
  if (ends_with(".musicxml") || ends_with(".xml")) return read_melody_musicxml(path);
  if (ends_with(".mxl")) return read_melody_mxl(path);
  throw std::runtime_error(path + ": a melody must be a MIDI (.mid, .midi) or MusicXML (.musicxml, .xml, compressed .mxl) file");
}

Chorale soprano_chorale(const Melody& melody) {
  Chorale c;
  c.grid.pitches.reserve(melody.steps());
  c.grid.onsets.reserve(melody.steps());
  for (size_t t = 0; t < melody.steps(); ++t) {
    c.grid.pitches.push_back({melody.pitches[t], kSilent, kSilent, kSilent});
    c.grid.onsets.push_back({static_cast<bool>(melody.onsets[t]), false, false, false});
  }
  c.steps_per_bar = melody.steps_per_bar;
  c.pickup_steps = melody.pickup_steps;
  return c;
}

std::string melody_text(const Chorale& c, int voice) {
  if (voice < 0 || voice >= kVoices) throw std::invalid_argument("melody_text: voice " + std::to_string(voice) + " (0-3)");
  const int bar = c.steps_per_bar;
  std::string out;
  if (bar != 16) out = meter_name(bar);
  auto quarters = [](int64_t steps) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", static_cast<double>(steps) / 4.0);
    return std::string(buffer);
  };
  // The voice's notes and the rests between them, in steps from the grid's start.
  std::vector<SpelledNote> notes;
  for (const SpelledNote& n : spelled_notes(c)) {
    if (n.voice == voice) notes.push_back(n);
  }
  const int64_t steps = static_cast<int64_t>(c.grid.steps());
  const int64_t first_bar = c.pickup_steps;  // the first bar line, in grid steps
  auto next_bar_line = [&](int64_t t) { return t < first_bar ? first_bar : first_bar + ((t - first_bar) / bar + 1) * bar; };
  auto item = [&](const std::string& name, int64_t from, int64_t to, bool tie_on) {
    if (!out.empty()) out += ' ';
    out += name + ":" + quarters(to - from) + (tie_on ? "~" : "");
    if ((to == first_bar && first_bar > 0) || (to > first_bar && (to - first_bar) % bar == 0)) out += " |";
  };
  auto write_span = [&](const std::string& name, int64_t from, int64_t to, bool tied) {
    int64_t at = from;
    while (at < to) {
      const int64_t stop = std::min(to, next_bar_line(at));
      item(name, at, stop, tied && stop < to);
      at = stop;
    }
  };
  int64_t at = 0;
  for (const SpelledNote& n : notes) {
    if (n.start > at) write_span("r", at, n.start, false);
    write_span(pitch_name(n.pitch, n.fifths), n.start, n.start + n.length, true);
    at = n.start + n.length;
  }
  if (at < steps) write_span("r", at, steps, false);
  return out;
}

std::string describe_step(const Melody& m, size_t step) {
  const int64_t bar_steps = m.steps_per_bar;
  const int64_t from_first_bar = static_cast<int64_t>(step) - m.pickup_steps;
  const int64_t bar = from_first_bar < 0 ? 0 : 1 + from_first_bar / bar_steps;
  const int64_t in_bar = from_first_bar < 0 ? bar_steps + from_first_bar : from_first_bar % bar_steps;
  std::string text = "bar " + std::to_string(bar) + " beat " + std::to_string(1 + in_bar / 4);
  if (in_bar % 4 != 0) text += " + " + std::to_string(in_bar % 4) + "/16";
  return text;
}

void check_soprano(const Melody& m, const std::string& where, int lowest, int highest, size_t max_steps) {
  if (m.steps() > max_steps) {
    throw std::invalid_argument(where + ": the melody is " + std::to_string(m.steps()) + " 16ths long; at most " +
                                std::to_string(max_steps) + " (" + std::to_string(max_steps / 16) + " bars of 4/4) can be harmonized");
  }
  bool any = false;
  static const char* names[] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
  for (size_t t = 0; t < m.steps(); ++t) {
    const int p = m.pitches[t];
    if (p == kSilent) continue;
    any = true;
    if (p < lowest || p > highest) {
      throw std::invalid_argument(where + ": " + describe_step(m, t) + ": " + names[p % 12] + std::to_string(p / 12 - 1) + " (MIDI " +
                                  std::to_string(p) + ") is outside the soprano range " + std::to_string(lowest) + "-" +
                                  std::to_string(highest) + " (C4-A5); transpose the melody (--transpose auto does it)");
    }
  }
  if (!any) throw std::invalid_argument(where + ": the melody has no notes");
}

int fitting_shift(const Melody& m, int lowest, int highest, bool* by_octaves) {
  int low = 128, high = -1;
  for (int8_t p : m.pitches) {
    if (p == kSilent) continue;
    low = std::min<int>(low, p);
    high = std::max<int>(high, p);
  }
  if (high < 0) throw std::invalid_argument("the melody has no notes");
  if (high - low > highest - lowest) {
    throw std::invalid_argument("the melody spans " + std::to_string(high - low) + " semitones, more than the soprano's " +
                                std::to_string(highest - lowest) + ": no transposition fits it");
  }
  *by_octaves = true;
  if (low >= lowest && high <= highest) return 0;
  auto fits = [&](int s) { return low + s >= lowest && high + s <= highest && low + s >= 0 && high + s <= 127; };
  for (int octaves = 1; octaves <= 10; ++octaves) {
    if (fits(12 * octaves)) return 12 * octaves;
    if (fits(-12 * octaves)) return -12 * octaves;
  }
  *by_octaves = false;
  for (int s = 1; s <= 127; ++s) {
    if (fits(s)) return s;
    if (fits(-s)) return -s;
  }
  throw std::invalid_argument("no transposition fits the melody");
}

Melody shifted_melody(const Melody& m, int semitones) {
  Melody out = m;
  for (int8_t& p : out.pitches) {
    if (p != kSilent) p = static_cast<int8_t>(p + semitones);
  }
  return out;
}

}  // namespace bachgen::music
