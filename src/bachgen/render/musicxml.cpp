// MusicXML writer.
#include "bachgen/render/musicxml.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "bachgen/io/files.h"
#include "bachgen/music/key.h"
#include "bachgen/music/meter.h"
#include "bachgen/music/spelling.h"

namespace bachgen::render {

using music::kSilent;
using music::kVoices;

namespace {

// The type and dots of a written length in 16ths; null type for lengths no single value has.
struct Value {
  const char* type = nullptr;
  int dots = 0;
};
Value value_of(int length) {
  switch (length) {
    case 16: return {"whole", 0};
    case 12: return {"half", 1};
    case 8: return {"half", 0};
    case 6: return {"quarter", 1};
    case 4: return {"quarter", 0};
    case 3: return {"eighth", 1};
    case 2: return {"eighth", 0};
    case 1: return {"16th", 0};
    default: return {};
  }
}

// Whether `length` 16ths from `position` in the bar may be written as one value.
bool stands_alone(int position, int length, int bar) {
  if (position + length > bar || value_of(length).type == nullptr) return false;
  if (length == 1) return true;
  if (bar % 4 != 0) {
    // N/8: 8th beats; a value longer than a quarter starts the bar.
    return position % 2 == 0 && (length <= 4 || position == 0);
  }
  switch (length) {
    case 16: return position == 0;
    case 12: return position == 0;                          // a dotted half fills 3/4, or beats 1-3 of 4/4
    case 8: return bar == 16 ? position % 8 == 0 : position % 4 == 0;  // 4/4: not across the half bar
    case 6: return bar == 16 ? position % 8 == 0 : position % 4 == 0;  // a dotted quarter and its 8th
    case 4:
    case 3: return position % 4 == 0;
    case 2: return position % 2 == 0;
    default: return false;
  }
}

// How strong a boundary inside the bar is: the half bar of 4/4, a beat, an 8th, a 16th.
int strength(int position, int bar) {
  if (bar == 16 && position == 8) return 4;
  if (bar % 4 == 0 && position % 4 == 0) return 3;
  if (position % 2 == 0) return 2;
  return 1;
}

void split(int position, int length, int bar, std::vector<int>& out) {
  if (stands_alone(position, length, bar)) {
    out.push_back(length);
    return;
  }
  int at = position + 1;
  for (int b = position + 1; b < position + length; ++b) {
    if (strength(b, bar) > strength(at, bar)) at = b;
  }
  split(position, at - position, bar, out);
  split(at, position + length - at, bar, out);
}

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// One written note or rest of a measure: a piece of a sounding note (tied to the pieces beside
// it) or of a rest.
struct Piece {
  int position = 0;  // in the bar (a pickup's pieces start late in it)
  int length = 0;
  int pitch = kSilent;
  int fifths = 0;
  bool tie_stop = false, tie_start = false;
  bool fermata = false;
  bool whole_bar_rest = false;
  std::array<const char*, 2> beams{{nullptr, nullptr}};  // levels 1 (8ths) and 2 (16ths)
};

// Beams by the beat: runs of two or more 8ths and 16ths (dotted 8ths too) within one beat, no
// rest between; a second beam over adjacent 16ths, a hook on a lone 16th.
void beam(std::vector<Piece>& pieces, int bar) {
  const int beat = bar % 4 == 0 ? 4 : 6;  // N/8: dotted-quarter groups
  size_t i = 0;
  while (i < pieces.size()) {
    auto beamable = [&](size_t k) { return pieces[k].pitch != kSilent && pieces[k].length < 4; };
    if (!beamable(i)) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < pieces.size() && beamable(j) && pieces[j].position / beat == pieces[i].position / beat) ++j;
    if (j - i >= 2) {
      for (size_t k = i; k < j; ++k) pieces[k].beams[0] = k == i ? "begin" : k + 1 == j ? "end" : "continue";
      for (size_t k = i; k < j;) {
        if (pieces[k].length != 1) {
          ++k;
          continue;
        }
        size_t e = k + 1;
        while (e < j && pieces[e].length == 1) ++e;
        if (e - k >= 2) {
          for (size_t m = k; m < e; ++m) pieces[m].beams[1] = m == k ? "begin" : m + 1 == e ? "end" : "continue";
        } else {
          pieces[k].beams[1] = k == i ? "forward hook" : "backward hook";
        }
        k = e;
      }
    }
    i = j;
  }
}

std::string time_signature(int bar) {
  const music::Meter m = music::meter_of_bar(bar);
  return "<beats>" + std::to_string(m.numerator) + "</beats><beat-type>" + std::to_string(m.denominator) + "</beat-type>";
}

}  // namespace

std::vector<int> written_values(int position, int length, int steps_per_bar) {
  if (steps_per_bar < 1 || position < 0 || length < 1 || position + length > steps_per_bar) {
    throw std::invalid_argument("written_values: a run of " + std::to_string(length) + " from " + std::to_string(position) +
                                " does not fit a bar of " + std::to_string(steps_per_bar));
  }
  std::vector<int> out;
  split(position, length, steps_per_bar, out);
  return out;
}

std::string to_musicxml(const ChoraleGrid& grid, const MusicXmlOptions& o) {
  music::Chorale c;
  c.grid = grid;
  c.steps_per_bar = o.steps_per_bar;
  c.tempo = o.tempo_bpm;
  return to_musicxml(c, o.title);
}

std::string to_musicxml(const music::Chorale& c, const std::string& title, Staves staves) {
  const int bar = c.steps_per_bar;
  if (bar < 1 || bar > 64) throw std::invalid_argument("MusicXML: a bar of " + std::to_string(bar) + " 16ths is not a meter we write");
  if (c.pickup_steps < 0 || c.pickup_steps >= bar) {
    throw std::invalid_argument("MusicXML: a pickup of " + std::to_string(c.pickup_steps) + " 16ths in a bar of " + std::to_string(bar));
  }
  const int lead = c.lead_rests();
  const int steps = static_cast<int>(c.grid.steps());
  const int written = lead + steps;
  // The last bar: short as the pickup's complement when it is exactly that, else filled with rests.
  int bars = std::max(1, (written + bar - 1) / bar);
  int end = bars * bar;
  if (c.pickup_steps > 0 && steps > 0 && written % bar == lead && bars > 1) end = written;
  const music::KeyGuess key = c.key_or_guess();
  const int tempo = static_cast<int>(std::lround(std::max(1.0, c.tempo)));

  // The notes, spelled; and the fermatas as written positions.
  std::array<std::vector<music::SpelledNote>, kVoices> voices;
  for (const music::SpelledNote& n : music::spelled_notes(c)) voices[static_cast<size_t>(n.voice)].push_back(n);
  std::vector<bool> fermata(static_cast<size_t>(end), false);
  for (size_t t = 0; t < c.fermatas.size() && t < c.grid.steps(); ++t) {
    if (c.fermatas[t]) fermata[static_cast<size_t>(lead) + t] = true;
  }

  // Each voice's written pieces, measure by measure.
  std::array<std::vector<std::vector<Piece>>, kVoices> measures;
  for (int v = 0; v < kVoices; ++v) {
    // The voice as spans of written positions: its notes, and rests between them.
    struct Span {
      int start, stop, pitch, fifths;
    };
    std::vector<Span> spans;
    int at = 0;
    for (const music::SpelledNote& n : voices[static_cast<size_t>(v)]) {
      const int s = lead + static_cast<int>(n.start);
      if (s > at) spans.push_back({at, s, kSilent, 0});
      spans.push_back({s, s + static_cast<int>(n.length), n.pitch, n.fifths});
      at = s + static_cast<int>(n.length);
    }
    if (at < end) spans.push_back({at, end, kSilent, 0});
    size_t span = 0;
    for (int m = 0; m < bars; ++m) {
      const int bar_start = m * bar;
      const int from = m == 0 ? lead : bar_start;  // a pickup measure holds only the pickup
      const int to = std::min(end, bar_start + bar);
      std::vector<Piece> pieces;
      while (span < spans.size() && spans[span].start < to) {
        const Span& sp = spans[span];
        const int s = std::max(sp.start, from), e = std::min(sp.stop, to);
        if (e > s) {
          if (sp.pitch == kSilent && s == bar_start && e == bar_start + bar) {
            Piece p;
            p.length = bar;
            p.whole_bar_rest = true;
            pieces.push_back(p);
          } else {
            const std::vector<int> values = written_values(s - bar_start, e - s, bar);
            int pos = s - bar_start;
            for (int length : values) {
              Piece p;
              p.position = pos;
              p.length = length;
              p.pitch = sp.pitch;
              p.fifths = sp.fifths;
              if (sp.pitch != kSilent) {
                p.tie_stop = bar_start + pos > sp.start;
                p.tie_start = bar_start + pos + length < sp.stop;
                // The fermata on the piece that sounds at its step.
                for (int t = bar_start + pos; t < bar_start + pos + length; ++t) {
                  if (fermata[static_cast<size_t>(t)]) p.fermata = true;
                }
              }
              pieces.push_back(p);
              pos += length;
            }
          }
        }
        if (sp.stop > to) break;
        ++span;
      }
      beam(pieces, bar);
      measures[static_cast<size_t>(v)].push_back(std::move(pieces));
    }
  }

  // One <note>: `voice` and, on a two-staff part, `staff` and the stem.
  auto note_xml = [](const Piece& p, int voice, int staff, const char* stem) {
    const Value value = value_of(p.length);
    std::string n = "      <note>";
    if (p.pitch == kSilent) {
      n += p.whole_bar_rest ? "<rest measure=\"yes\"/>" : "<rest/>";
    } else {
      const music::Spelling s = music::spelling_of_fifths(p.fifths);
      n += "<pitch><step>" + std::string(1, s.step) + "</step>";
      if (s.alter != 0) n += "<alter>" + std::to_string(s.alter) + "</alter>";
      n += "<octave>" + std::to_string(music::written_octave(p.pitch, p.fifths)) + "</octave></pitch>";
    }
    n += "<duration>" + std::to_string(p.length) + "</duration>";
    if (p.tie_stop) n += "<tie type=\"stop\"/>";
    if (p.tie_start) n += "<tie type=\"start\"/>";
    n += "<voice>" + std::to_string(voice) + "</voice>";
    if (!p.whole_bar_rest) {
      n += "<type>" + std::string(value.type) + "</type>";
      for (int d = 0; d < value.dots; ++d) n += "<dot/>";
    }
    if (stem && p.pitch != kSilent && !p.whole_bar_rest && p.length < 16) n += std::string("<stem>") + stem + "</stem>";
    if (staff > 0) n += "<staff>" + std::to_string(staff) + "</staff>";
    for (int level = 0; level < 2; ++level) {
      if (p.beams[static_cast<size_t>(level)]) {
        n += "<beam number=\"" + std::to_string(level + 1) + "\">" + p.beams[static_cast<size_t>(level)] + "</beam>";
      }
    }
    if (p.tie_stop || p.tie_start || p.fermata) {
      n += "<notations>";
      if (p.tie_stop) n += "<tied type=\"stop\"/>";
      if (p.tie_start) n += "<tied type=\"start\"/>";
      if (p.fermata) n += std::string("<fermata type=\"") + (stem && std::string(stem) == "down" ? "inverted" : "upright") + "\"/>";
      n += "</notations>";
    }
    return n + "</note>\n";
  };
  auto measure_open = [&](int m) {
    const bool pickup = m == 0 && c.pickup_steps > 0;
    return "    <measure number=\"" + std::to_string(c.pickup_steps > 0 ? m : m + 1) + "\"" + (pickup ? " implicit=\"yes\"" : "") + ">\n";
  };
  const std::string key_and_time = "<divisions>4</divisions><key><fifths>" + std::to_string(key.fifths) + "</fifths><mode>" +
                                   (key.minor ? "minor" : "major") + "</mode></key><time>" + time_signature(bar) + "</time>";
  const std::string metronome = "      <direction placement=\"above\"><direction-type><metronome><beat-unit>quarter</beat-unit><per-minute>" +
                                std::to_string(tempo) + "</per-minute></metronome></direction-type><sound tempo=\"" +
                                std::to_string(tempo) + "\"/></direction>\n";
  const std::string final_bar = "      <barline location=\"right\"><bar-style>light-heavy</bar-style></barline>\n";

  std::string x;
  x += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<!DOCTYPE score-partwise PUBLIC \"-//Recordare//DTD MusicXML 3.1 Partwise//EN\" "
       "\"http://www.musicxml.org/dtds/partwise.dtd\">\n";
  x += "<score-partwise version=\"3.1\">\n";
  x += "  <work><work-title>" + escape_xml(title) + "</work-title></work>\n";
  x += "  <identification><encoding><software>bachgen</software></encoding></identification>\n";
  x += "  <part-list>\n";
  // An instrument per part (choir aahs): without one, MuseScore 3 reports "no instrument found"
  // for every part after the first.
  auto score_part = [](int index, const std::string& name, const std::string& abbreviation) {
    const std::string id = "P" + std::to_string(index + 1);
    return "    <score-part id=\"" + id + "\"><part-name>" + name + "</part-name><part-abbreviation>" + abbreviation +
           "</part-abbreviation><score-instrument id=\"" + id + "-I1\"><instrument-name>Choir Aahs</instrument-name></score-instrument>"
           "<midi-instrument id=\"" + id + "-I1\"><midi-channel>" + std::to_string(index + 1) +
           "</midi-channel><midi-program>53</midi-program></midi-instrument></score-part>\n";
  };
  if (staves == Staves::kTwo) {
    x += score_part(0, "Choir", "Ch.");
    x += "  </part-list>\n  <part id=\"P1\">\n";
    for (int m = 0; m < bars; ++m) {
      x += measure_open(m);
      if (m == 0) {
        x += "      <attributes>" + key_and_time +
             "<staves>2</staves><clef number=\"1\"><sign>G</sign><line>2</line></clef><clef number=\"2\"><sign>F</sign><line>4</line></clef>"
             "</attributes>\n" + metronome;
      }
      const int length = std::min(end, (m + 1) * bar) - (m == 0 ? lead : m * bar);
      for (int v = 0; v < kVoices; ++v) {
        if (v > 0) x += "      <backup><duration>" + std::to_string(length) + "</duration></backup>\n";
        for (const Piece& p : measures[static_cast<size_t>(v)][static_cast<size_t>(m)]) {
          x += note_xml(p, v + 1, v < 2 ? 1 : 2, v % 2 == 0 ? "up" : "down");
        }
      }
      if (m == bars - 1) x += final_bar;
      x += "    </measure>\n";
    }
    x += "  </part>\n";
  } else {
    static const std::array<const char*, 4> names{"Soprano", "Alto", "Tenor", "Bass"};
    static const std::array<const char*, 4> short_names{"S.", "A.", "T.", "B."};
    for (int v = 0; v < kVoices; ++v) x += score_part(v, names[static_cast<size_t>(v)], short_names[static_cast<size_t>(v)]);
    x += "  </part-list>\n";
    for (int v = 0; v < kVoices; ++v) {
      x += "  <part id=\"P" + std::to_string(v + 1) + "\">\n";
      for (int m = 0; m < bars; ++m) {
        x += measure_open(m);
        if (m == 0) {
          x += "      <attributes>" + key_and_time;
          if (v == 3) {
            x += "<clef><sign>F</sign><line>4</line></clef>";
          } else if (v == 2) {
            x += "<clef><sign>G</sign><line>2</line><clef-octave-change>-1</clef-octave-change></clef>";
          } else {
            x += "<clef><sign>G</sign><line>2</line></clef>";
          }
          x += "</attributes>\n";
          if (v == 0) x += metronome;
        }
        for (const Piece& p : measures[static_cast<size_t>(v)][static_cast<size_t>(m)]) x += note_xml(p, 1, 0, nullptr);
        if (m == bars - 1) x += final_bar;
        x += "    </measure>\n";
      }
      x += "  </part>\n";
    }
  }
  x += "</score-partwise>\n";
  return x;
}

void write_musicxml(const std::string& path, const ChoraleGrid& grid, const MusicXmlOptions& options) {
  io::write_file_atomically(path, to_musicxml(grid, options));
}

}  // namespace bachgen::render
