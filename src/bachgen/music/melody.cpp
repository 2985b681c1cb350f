// Melody input: the note text, MIDI (skyline) and MusicXML (pugixml).
#include "bachgen/music/melody.h"

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
#include "bachgen/music/score.h"

namespace bachgen::music {

namespace {

constexpr size_t kMaxMelodySteps = 1 << 16;  // reading limit; check_soprano sets the musical one
constexpr size_t kMaxFileBytes = 64u << 20;

int pitch_class_of(char letter) {
  switch (letter) {
    case 'C': return 0;
    case 'D': return 2;
    case 'E': return 4;
    case 'F': return 5;
    case 'G': return 7;
    case 'A': return 9;
    case 'B': return 11;
    default: return -1;
  }
}

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

// "C#4", "Bb3", "D5": a MIDI number, or throws std::invalid_argument.
int parse_pitch_name(const std::string& text) {
  if (text.empty()) throw std::invalid_argument("no pitch");
  const int pc = pitch_class_of(static_cast<char>(std::toupper(static_cast<unsigned char>(text[0]))));
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

void append(Melody& m, int pitch, int steps, bool onset) {
  if (m.pitches.size() + static_cast<size_t>(steps) > kMaxMelodySteps) {
    throw std::invalid_argument("the melody is longer than " + std::to_string(kMaxMelodySteps) + " 16ths");
  }
  for (int k = 0; k < steps; ++k) {
    m.pitches.push_back(static_cast<int8_t>(pitch));
    m.onsets.push_back(onset && k == 0 && pitch != kSilent);
  }
}

int steps_per_bar_of(int numerator, int denominator) {
  if (numerator <= 0 || denominator <= 0 || 16 % denominator != 0 || numerator > 64) return -1;
  return numerator * (16 / denominator);
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
      const int pitch = rest ? kSilent : parse_pitch_name(name);
      if (rest && tie) throw std::invalid_argument("a rest cannot be tied");
      if (tied_pitch >= 0 && pitch != tied_pitch) throw std::invalid_argument("a tie must continue the same pitch");
      append(m, pitch, last_steps, tied_pitch < 0);
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

Melody read_melody_midi(const std::string& path) {
  Score score;
  try {
    score = score_from_midi(midi::read_midi_file(path));
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
  return melody_of_score(score, path);
}

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

namespace {

int child_int(const pugi::xml_node& node, const char* name, int fallback) {
  const pugi::xml_node c = node.child(name);
  if (!c) return fallback;
  const std::string text = c.text().as_string();
  try {
    size_t used = 0;
    const int v = std::stoi(text, &used);
    return used == 0 ? fallback : v;
  } catch (const std::exception&) {
    return fallback;
  }
}

}  // namespace

Melody parse_melody_musicxml(const std::string& document, const std::string& name) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(document.data(), document.size());
  if (!parsed) {
    throw std::runtime_error(name + ": byte " + std::to_string(parsed.offset) + ": not well-formed XML (" + parsed.description() + ")");
  }
  const pugi::xml_node root = doc.child("score-partwise");
  if (!root) {
    throw std::runtime_error(name + ": not a score-partwise MusicXML document" +
                             std::string(doc.child("score-timewise") ? " (score-timewise is not read)" : ""));
  }
  const pugi::xml_node part = root.child("part");
  if (!part) throw std::runtime_error(name + ": the score has no part");
  Melody m;
  int divisions = 0;
  bool have_time = false;
  std::string melody_voice;     // the voice of the first note met
  int64_t measure_start = 0;    // in 16ths
  int measure_index = 0;
  int last_pitch = kSilent;     // for ties
  size_t last_onset = 0;        // step of the current note's start (for <chord/>)
  for (const pugi::xml_node& measure : part.children("measure")) {
    ++measure_index;
    const std::string where = name + ": measure " + std::string(measure.attribute("number").as_string(std::to_string(measure_index).c_str()));
    int64_t position = 0, longest = 0;  // in divisions, within the measure
    for (const pugi::xml_node& item : measure.children()) {
      const std::string kind = item.name();
      if (kind == "attributes") {
        if (item.child("divisions")) {
          divisions = child_int(item, "divisions", 0);
          if (divisions <= 0 || divisions > 1000000) throw std::runtime_error(where + ": bad <divisions>");
        }
        if (const pugi::xml_node time = item.child("time")) {
          const int spb = steps_per_bar_of(child_int(time, "beats", 0), child_int(time, "beat-type", 0));
          if (spb <= 0) throw std::runtime_error(where + ": a time signature the 16th grid cannot hold");
          if (have_time && spb != m.steps_per_bar) throw std::runtime_error(where + ": a change of time signature (not supported)");
          m.steps_per_bar = spb;
          have_time = true;
        }
      } else if (kind == "direction" || kind == "sound") {
        const pugi::xml_node sound = kind == "sound" ? item : item.child("sound");
        if (sound && sound.attribute("tempo") && m.tempo_bpm == 0) {
          const double bpm = sound.attribute("tempo").as_double();
          if (bpm >= 10 && bpm <= 400) m.tempo_bpm = bpm;  // else: not a usable tempo; ignored
        }
      } else if (kind == "backup" || kind == "forward") {
        const int d = child_int(item, "duration", -1);
        if (d < 0) throw std::runtime_error(where + ": <" + kind + "> without a duration");
        position += kind == "backup" ? -d : d;
        if (position < 0) throw std::runtime_error(where + ": <backup> before the measure's start");
        longest = std::max(longest, position);
      } else if (kind == "note") {
        if (item.child("grace") || item.child("cue")) continue;  // no time of their own
        if (divisions <= 0) throw std::runtime_error(where + ": a note before <divisions>");
        const bool chord = static_cast<bool>(item.child("chord"));
        const int duration = child_int(item, "duration", -1);
        if (duration < 0) throw std::runtime_error(where + ": a note without a duration");
        const std::string voice = item.child("voice") ? item.child("voice").text().as_string() : "1";
        if (melody_voice.empty()) melody_voice = voice;
        const int64_t start = chord ? position - duration : position;  // a chord note shares the last onset
        if (!chord) position += duration;
        longest = std::max(longest, position);
        if (voice != melody_voice) continue;
        if ((start * 4) % divisions != 0 || (static_cast<int64_t>(duration) * 4) % divisions != 0) {
          throw std::runtime_error(where + ": a note off the 16th grid (tuplets and 32nds are not read)");
        }
        const int64_t first = measure_start + start * 4 / divisions;
        const int64_t steps = static_cast<int64_t>(duration) * 4 / divisions;
        if (first < 0 || first + steps > static_cast<int64_t>(kMaxMelodySteps)) throw std::runtime_error(where + ": the melody is too long");
        int pitch = kSilent;
        if (const pugi::xml_node p = item.child("pitch")) {
          const std::string step = p.child("step").text().as_string();
          const int pc = step.size() == 1 ? pitch_class_of(step[0]) : -1;
          if (pc < 0) throw std::runtime_error(where + ": a pitch with step '" + step + "'");
          const int octave = child_int(p, "octave", -100);
          if (octave < -1 || octave > 9) throw std::runtime_error(where + ": a pitch without a valid octave");
          const double alter = p.child("alter").text().as_double(0);
          if (!(std::fabs(alter) <= 2)) throw std::runtime_error(where + ": an <alter> beyond a double sharp or flat");
          pitch = 12 * (octave + 1) + pc + static_cast<int>(std::lround(alter));
          if (pitch < 0 || pitch > 127) throw std::runtime_error(where + ": a pitch outside MIDI's 0-127");
        } else if (!item.child("rest")) {
          throw std::runtime_error(where + ": a note with neither <pitch> nor <rest> (unpitched notes are not read)");
        }
        if (steps == 0) continue;
        bool tie_stop = false;
        for (const pugi::xml_node& tie : item.children("tie")) tie_stop |= std::string(tie.attribute("type").as_string()) == "stop";
        const size_t end = static_cast<size_t>(first + steps);
        if (m.pitches.size() < end) {
          m.pitches.resize(end, kSilent);
          m.onsets.resize(end, false);
        }
        if (chord) {
          if (pitch > m.pitches[last_onset]) {  // the top note of the chord
            for (size_t t = static_cast<size_t>(first); t < end; ++t) m.pitches[t] = static_cast<int8_t>(pitch);
            m.onsets[static_cast<size_t>(first)] = pitch != kSilent;
          }
          continue;
        }
        const bool continues = tie_stop && pitch == last_pitch && first > 0 && m.pitches[static_cast<size_t>(first) - 1] == pitch;
        for (size_t t = static_cast<size_t>(first); t < end; ++t) {
          m.pitches[t] = static_cast<int8_t>(pitch);
          m.onsets[t] = false;
        }
        m.onsets[static_cast<size_t>(first)] = pitch != kSilent && !continues;
        last_pitch = pitch;
        last_onset = static_cast<size_t>(first);
      }
    }
    const int64_t measure_steps = divisions > 0 ? (longest * 4 + divisions - 1) / divisions : 0;
    const bool implicit = std::string(measure.attribute("implicit").as_string()) == "yes";
    if (measure_index == 1 && measure_steps > 0 && (implicit || measure_steps < m.steps_per_bar)) {
      m.pickup_steps = static_cast<int>(measure_steps);
      measure_start += measure_steps;
    } else {
      measure_start += std::max<int64_t>(measure_steps, m.steps_per_bar);
    }
    if (static_cast<size_t>(measure_start) > kMaxMelodySteps) throw std::runtime_error(where + ": the melody is too long");
  }
  if (m.pickup_steps >= m.steps_per_bar) m.pickup_steps = 0;
  // Trailing rests are not part of the melody.
  while (!m.pitches.empty() && m.pitches.back() == kSilent) {
    m.pitches.pop_back();
    m.onsets.pop_back();
  }
  if (m.pitches.empty()) throw std::runtime_error(name + ": the first part has no notes");
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
  const io::ZipArchive zip(archive, name);
  constexpr size_t kMaxEntryBytes = 64u << 20;
  std::string score_path;
  if (const io::ZipEntry* container = zip.find("META-INF/container.xml")) {
    const std::vector<uint8_t> bytes = zip.read(*container, 1u << 20);
    pugi::xml_document doc;
    if (!doc.load_buffer(bytes.data(), bytes.size())) throw std::runtime_error(name + ": META-INF/container.xml is not well-formed XML");
    score_path = doc.child("container").child("rootfiles").child("rootfile").attribute("full-path").as_string();
    if (score_path.empty()) throw std::runtime_error(name + ": META-INF/container.xml names no rootfile");
  } else {
    for (const io::ZipEntry& e : zip.entries()) {
      const bool xml = e.name.size() > 4 && (e.name.compare(e.name.size() - 4, 4, ".xml") == 0 ||
                                             (e.name.size() > 9 && e.name.compare(e.name.size() - 9, 9, ".musicxml") == 0));
      if (!xml || e.name.rfind("META-INF/", 0) == 0) continue;
      if (!score_path.empty()) throw std::runtime_error(name + ": no META-INF/container.xml, and more than one score (" + score_path + ", " + e.name + ")");
      score_path = e.name;
    }
    if (score_path.empty()) throw std::runtime_error(name + ": no META-INF/container.xml and no .musicxml or .xml score inside");
  }
  const io::ZipEntry* score = zip.find(score_path);
  if (score == nullptr) throw std::runtime_error(name + ": the score " + score_path + " named by META-INF/container.xml is not in the archive");
  const std::vector<uint8_t> bytes = zip.read(*score, kMaxEntryBytes);
  return parse_melody_musicxml(std::string(bytes.begin(), bytes.end()), name + ":" + score_path);
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
                                  std::to_string(highest) + " (C4-A5); transpose the melody");
    }
  }
  if (!any) throw std::invalid_argument(where + ": the melody has no notes");
}

}  // namespace bachgen::music
