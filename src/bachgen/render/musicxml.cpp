// MusicXML writer.
#include "bachgen/render/musicxml.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "bachgen/io/files.h"
#include "bachgen/music/key.h"

namespace bachgen::render {

using music::GridStep;
using music::guess_key;
using music::KeyGuess;
using music::kSilent;
using music::kVoices;

namespace {

// Spelling of a pitch class in a key: sharps in sharp keys and C, flats in flat keys.
struct Spelled {
  char step;
  int alter;
};
Spelled spell(int pitch_class, int fifths) {
  static const std::array<Spelled, 12> sharps{{{'C', 0}, {'C', 1}, {'D', 0}, {'D', 1}, {'E', 0}, {'F', 0},
                                               {'F', 1}, {'G', 0}, {'G', 1}, {'A', 0}, {'A', 1}, {'B', 0}}};
  static const std::array<Spelled, 12> flats{{{'C', 0}, {'D', -1}, {'D', 0}, {'E', -1}, {'E', 0}, {'F', 0},
                                              {'G', -1}, {'G', 0}, {'A', -1}, {'A', 0}, {'B', -1}, {'B', 0}}};
  return (fifths < 0 ? flats : sharps)[static_cast<size_t>(pitch_class)];
}

// Written values in 16ths, largest first, and their MusicXML type and dots.
struct Value {
  int steps;
  const char* type;
  int dots;
};
constexpr std::array<Value, 8> kValues{{{16, "whole", 0}, {12, "half", 1}, {8, "half", 0}, {6, "quarter", 1},
                                        {4, "quarter", 0}, {3, "eighth", 1}, {2, "eighth", 0}, {1, "16th", 0}}};

// A run of one pitch (or a rest, pitch kSilent) inside one bar.
struct Piece {
  int pitch;
  int steps;
  bool tie_from_before;  // continues a note of the previous bar or piece
  bool tie_to_next;
};

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

}  // namespace

std::string to_musicxml(const ChoraleGrid& grid, const MusicXmlOptions& o) {
  const int bar = o.steps_per_bar;
  const int steps = static_cast<int>(grid.steps());
  const int bars = std::max(1, (steps + bar - 1) / bar);
  const KeyGuess key = guess_key(grid);
  static const std::array<const char*, 4> names{"Soprano", "Alto", "Tenor", "Bass"};
  std::string x;
  x += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<!DOCTYPE score-partwise PUBLIC \"-//Recordare//DTD MusicXML 3.1 Partwise//EN\" "
       "\"http://www.musicxml.org/dtds/partwise.dtd\">\n";
  x += "<score-partwise version=\"3.1\">\n";
  x += "  <work><work-title>" + escape_xml(o.title) + "</work-title></work>\n";
  x += "  <identification><encoding><software>bachgen</software></encoding></identification>\n";
  x += "  <part-list>\n";
  for (int v = 0; v < kVoices; ++v) {
    // An instrument per part (choir aahs on its own channel, as in our MIDI files): without
    // one, MuseScore 3 reports "no instrument found" for every part after the first.
    const std::string id = "P" + std::to_string(v + 1);
    x += "    <score-part id=\"" + id + "\"><part-name>" + names[static_cast<size_t>(v)] + "</part-name>"
         "<score-instrument id=\"" + id + "-I1\"><instrument-name>Choir Aahs</instrument-name></score-instrument>"
         "<midi-instrument id=\"" + id + "-I1\"><midi-channel>" + std::to_string(v + 1) +
         "</midi-channel><midi-program>53</midi-program></midi-instrument></score-part>\n";
  }
  x += "  </part-list>\n";
  for (int v = 0; v < kVoices; ++v) {
    // Runs of one pitch: a new run at each onset or change; runs cut at bar lines (tied).
    std::vector<std::vector<Piece>> measures(static_cast<size_t>(bars));
    int t = 0;
    while (t < bars * bar) {
      const int pitch = t < steps ? grid.pitches[static_cast<size_t>(t)][static_cast<size_t>(v)] : kSilent;
      int end = t + 1;
      while (end < bars * bar) {
        const int next = end < steps ? grid.pitches[static_cast<size_t>(end)][static_cast<size_t>(v)] : kSilent;
        if (next != pitch || (pitch != kSilent && end < steps && grid.is_onset(static_cast<size_t>(end), v))) break;
        ++end;
      }
      for (int s = t; s < end;) {
        const int m = s / bar;
        const int stop = std::min(end, (m + 1) * bar);
        measures[static_cast<size_t>(m)].push_back({pitch, stop - s, pitch != kSilent && s > t, pitch != kSilent && stop < end});
        s = stop;
      }
      t = end;
    }
    x += "  <part id=\"P" + std::to_string(v + 1) + "\">\n";
    for (int m = 0; m < bars; ++m) {
      x += "    <measure number=\"" + std::to_string(m + 1) + "\">\n";
      if (m == 0) {
        x += "      <attributes><divisions>4</divisions><key><fifths>" + std::to_string(key.fifths) + "</fifths><mode>" +
             (key.minor ? "minor" : "major") + "</mode></key><time><beats>" + std::to_string(bar % 4 == 0 ? bar / 4 : bar / 2) +
             "</beats><beat-type>" + (bar % 4 == 0 ? "4" : "8") + "</beat-type></time>";
        if (v == 3) {
          x += "<clef><sign>F</sign><line>4</line></clef>";
        } else if (v == 2) {
          x += "<clef><sign>G</sign><line>2</line><clef-octave-change>-1</clef-octave-change></clef>";
        } else {
          x += "<clef><sign>G</sign><line>2</line></clef>";
        }
        x += "</attributes>\n";
        if (v == 0) {
          x += "      <direction placement=\"above\"><direction-type><metronome><beat-unit>quarter</beat-unit><per-minute>" +
               std::to_string(o.tempo_bpm) + "</per-minute></metronome></direction-type><sound tempo=\"" +
               std::to_string(o.tempo_bpm) + "\"/></direction>\n";
        }
      }
      for (const Piece& piece : measures[static_cast<size_t>(m)]) {
        // Written values, largest first; each but the first continues the one before it.
        int left = piece.steps;
        bool first = true;
        while (left > 0) {
          const Value* value = &kValues.back();
          for (const Value& candidate : kValues) {
            if (candidate.steps <= left) {
              value = &candidate;
              break;
            }
          }
          left -= value->steps;
          const bool tie_start = piece.pitch != kSilent && (left > 0 || piece.tie_to_next);
          const bool tie_stop = piece.pitch != kSilent && (!first || piece.tie_from_before);
          x += "      <note>";
          if (piece.pitch == kSilent) {
            x += "<rest/>";
          } else {
            const Spelled sp = spell(piece.pitch % 12, key.fifths);
            // The octave of the written letter: B#/Cb would cross octaves; this spelling has none.
            x += "<pitch><step>" + std::string(1, sp.step) + "</step>";
            if (sp.alter != 0) x += "<alter>" + std::to_string(sp.alter) + "</alter>";
            x += "<octave>" + std::to_string(piece.pitch / 12 - 1) + "</octave></pitch>";
          }
          x += "<duration>" + std::to_string(value->steps) + "</duration>";
          if (tie_stop) x += "<tie type=\"stop\"/>";
          if (tie_start) x += "<tie type=\"start\"/>";
          x += "<voice>1</voice><type>" + std::string(value->type) + "</type>";
          for (int d = 0; d < value->dots; ++d) x += "<dot/>";
          if (tie_stop || tie_start) {
            x += "<notations>";
            if (tie_stop) x += "<tied type=\"stop\"/>";
            if (tie_start) x += "<tied type=\"start\"/>";
            x += "</notations>";
          }
          x += "</note>\n";
          first = false;
        }
      }
      if (m == bars - 1) x += "      <barline location=\"right\"><bar-style>light-heavy</bar-style></barline>\n";
      x += "    </measure>\n";
    }
    x += "  </part>\n";
  }
  x += "</score-partwise>\n";
  return x;
}

void write_musicxml(const std::string& path, const ChoraleGrid& grid, const MusicXmlOptions& options) {
  io::write_file_atomically(path, to_musicxml(grid, options));
}

}  // namespace bachgen::render
