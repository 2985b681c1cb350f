// MIDI bytes, MusicXML and the notes JSON of a Chorale.
#include "bachgen/render/chorale_render.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "bachgen/midi/midi_writer.h"
#include "bachgen/music/score.h"
#include "bachgen/render/musicxml.h"

namespace bachgen::render {

std::string chorale_midi(const music::Chorale& c) {
  const auto us_per_quarter = static_cast<uint32_t>(60e6 / std::max(c.tempo, 1.0));
  music::Score score = music::grid_to_score(c.written_grid(), 480, us_per_quarter);
  if (c.steps_per_bar != 16) {
    midi::TimeSignature ts;
    ts.numerator = c.steps_per_bar % 4 == 0 ? c.steps_per_bar / 4 : c.steps_per_bar / 2;
    ts.denominator = c.steps_per_bar % 4 == 0 ? 4 : 8;
    score.time_signatures = {{0, ts}};
  }
  const std::vector<uint8_t> bytes = midi::encode_midi(music::score_to_midi(score));
  return std::string(bytes.begin(), bytes.end());
}

std::string chorale_musicxml(const music::Chorale& c, const std::string& title) {
  MusicXmlOptions xml;
  xml.title = title;
  xml.tempo_bpm = static_cast<int>(std::lround(c.tempo));
  xml.steps_per_bar = c.steps_per_bar;
  return to_musicxml(c.written_grid(), xml);
}

std::string chorale_notes_json(const music::Chorale& c) {
  const music::ChoraleGrid& grid = c.grid;
  const int lead_rests = c.lead_rests();
  nlohmann::json notes = nlohmann::json::array();
  for (int v = 0; v < music::kVoices; ++v) {
    for (size_t t = 0; t < grid.steps(); ++t) {
      if (!grid.is_onset(t, v)) continue;
      size_t end = t + 1;
      while (end < grid.steps() && grid.pitches[end][v] == grid.pitches[t][v] && !grid.is_onset(end, v)) ++end;
      notes.push_back({v, static_cast<int64_t>(t) + lead_rests, static_cast<int64_t>(end - t), grid.pitches[t][v]});
    }
  }
  const int64_t steps = static_cast<int64_t>(grid.steps()) + lead_rests;
  const nlohmann::json out = {{"steps_per_bar", c.steps_per_bar},
                              {"tempo", c.tempo},
                              {"steps", steps},
                              {"bars", c.bars()},
                              {"voices", {"S", "A", "T", "B"}},
                              {"notes", notes}};
  return out.dump();
}

}  // namespace bachgen::render
