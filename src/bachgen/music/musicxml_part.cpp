// One MusicXML part onto the 16th grid.
#include "bachgen/music/musicxml_part.h"

#include "bachgen/music/spelling.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "bachgen/io/zip_archive.h"
#include "bachgen/music/chorale_grid.h"

namespace bachgen::music {

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

bool has_fermata(const pugi::xml_node& note) {
  for (const pugi::xml_node& notations : note.children("notations")) {
    if (notations.child("fermata")) return true;
  }
  return false;
}

}  // namespace

int pitch_class_of_letter(char letter) {
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

int steps_per_bar_of(int numerator, int denominator) {
  if (numerator <= 0 || denominator <= 0 || 16 % denominator != 0 || numerator > 64) return -1;
  const int steps = numerator * (16 / denominator);
  return steps <= 64 ? steps : -1;  // a bar of at most 64 16ths (16/4): what the writers engrave
}

std::optional<KeyGuess> key_of_musicxml(const pugi::xml_node& key) {
  if (!key || !key.child("fifths")) return std::nullopt;
  const int fifths = child_int(key, "fifths", 100);
  if (fifths < -7 || fifths > 7) return std::nullopt;
  KeyGuess k;
  k.fifths = fifths;
  k.minor = std::string(key.child("mode").text().as_string()) == "minor";
  const int major_tonic = ((fifths * 7) % 12 + 12) % 12;
  k.tonic = k.minor ? (major_tonic + 9) % 12 : major_tonic;
  return k;
}

pugi::xml_node load_score_partwise(pugi::xml_document& doc, const std::string& document, const std::string& name) {
  const pugi::xml_parse_result parsed = doc.load_buffer(document.data(), document.size());
  if (!parsed) {
    throw std::runtime_error(name + ": byte " + std::to_string(parsed.offset) + ": not well-formed XML (" + parsed.description() + ")");
  }
  const pugi::xml_node root = doc.child("score-partwise");
  if (!root) {
    throw std::runtime_error(name + ": not a score-partwise MusicXML document" +
                             std::string(doc.child("score-timewise") ? " (score-timewise is not read)" : ""));
  }
  return root;
}

PartLine read_musicxml_part(const pugi::xml_node& part, const std::string& name, bool lowest) {
  PartLine m;
  int divisions = 0;
  bool have_time = false;
  std::string line_voice;       // the voice of the first note met
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
        if (!m.key) m.key = key_of_musicxml(item.child("key"));
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
        if (line_voice.empty()) line_voice = voice;
        const int64_t start = chord ? position - duration : position;  // a chord note shares the last onset
        if (!chord) position += duration;
        longest = std::max(longest, position);
        if (voice != line_voice) continue;
        if ((start * 4) % divisions != 0 || (static_cast<int64_t>(duration) * 4) % divisions != 0) {
          throw std::runtime_error(where + ": a note off the 16th grid (tuplets and 32nds are not read)");
        }
        const int64_t first = measure_start + start * 4 / divisions;
        const int64_t steps = static_cast<int64_t>(duration) * 4 / divisions;
        if (first < 0 || first + steps > static_cast<int64_t>(kMaxMusicXmlSteps)) throw std::runtime_error(where + ": the music is too long");
        int pitch = kSilent;
        int spelled = kUnspelled;
        if (const pugi::xml_node p = item.child("pitch")) {
          const std::string step = p.child("step").text().as_string();
          const int pc = step.size() == 1 ? pitch_class_of_letter(step[0]) : -1;
          if (pc < 0) throw std::runtime_error(where + ": a pitch with step '" + step + "'");
          const int octave = child_int(p, "octave", -100);
          if (octave < -1 || octave > 9) throw std::runtime_error(where + ": a pitch without a valid octave");
          const double alter = p.child("alter").text().as_double(0);
          if (!(std::fabs(alter) <= 2)) throw std::runtime_error(where + ": an <alter> beyond a double sharp or flat");
          pitch = 12 * (octave + 1) + pc + static_cast<int>(std::lround(alter));
          spelled = fifths_of_spelling(step[0], static_cast<int>(std::lround(alter)));
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
          m.fermatas.resize(end, false);
          m.spellings.resize(end, kUnspelled);
        }
        const bool fermata = pitch != kSilent && has_fermata(item);
        if (chord) {
          const int held = m.pitches[last_onset];
          if (pitch != kSilent && (held == kSilent || (lowest ? pitch < held : pitch > held))) {  // the chord's top (or lowest) note
            for (size_t t = static_cast<size_t>(first); t < end; ++t) m.pitches[t] = static_cast<int8_t>(pitch);
            m.onsets[static_cast<size_t>(first)] = true;
            m.spellings[static_cast<size_t>(first)] = spelled;
          }
          if (fermata) m.fermatas[static_cast<size_t>(first)] = true;
          continue;
        }
        const bool continues = tie_stop && pitch == last_pitch && first > 0 && m.pitches[static_cast<size_t>(first) - 1] == pitch;
        for (size_t t = static_cast<size_t>(first); t < end; ++t) {
          m.pitches[t] = static_cast<int8_t>(pitch);
          m.onsets[t] = false;
        }
        m.onsets[static_cast<size_t>(first)] = pitch != kSilent && !continues;
        if (!continues) m.spellings[static_cast<size_t>(first)] = spelled;
        if (fermata) {
          // A fermata on a tied continuation marks the note it continues.
          size_t at = static_cast<size_t>(first);
          while (continues && at > 0 && !m.onsets[at]) --at;
          m.fermatas[at] = true;
        }
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
    if (static_cast<size_t>(measure_start) > kMaxMusicXmlSteps) throw std::runtime_error(where + ": the music is too long");
  }
  if (m.pickup_steps >= m.steps_per_bar) m.pickup_steps = 0;
  // A step that starts no note holds the pitch before it. Chord notes longer than their chord,
  // <backup> and <forward> can leave a pitch that changes without an onset (found by
  // fuzz_melody): such a step starts a note.
  for (size_t t = 0; t < m.pitches.size(); ++t) {
    if (m.pitches[t] != kSilent && !m.onsets[t] && (t == 0 || m.pitches[t - 1] != m.pitches[t])) m.onsets[t] = true;
  }
  return m;
}

std::string musicxml_of_mxl(const std::vector<uint8_t>& archive, const std::string& name, std::string* entry) {
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
  *entry = score_path;
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace bachgen::music
