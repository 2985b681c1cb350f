// MIDI bytes, MusicXML and the notes JSON of a Chorale.
#include "bachgen/render/chorale_render.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "bachgen/midi/midi_writer.h"
#include "bachgen/music/meter.h"
#include "bachgen/music/score.h"
#include "bachgen/music/spelling.h"
#include "bachgen/render/musicxml.h"

namespace bachgen::render {

std::string chorale_midi(const music::Chorale& c) {
  const auto us_per_quarter = static_cast<uint32_t>(60e6 / std::max(c.tempo, 1.0));
  music::Score score = music::grid_to_score(c.written_grid(), 480, us_per_quarter);
  if (c.steps_per_bar != 16) {
    midi::TimeSignature ts;
    const music::Meter meter = music::meter_of_bar(c.steps_per_bar);
    ts.numerator = meter.numerator;
    ts.denominator = meter.denominator;
    score.time_signatures = {{0, ts}};
  }
  const music::KeyGuess key = c.key_or_guess();
  midi::KeySignature ks;
  ks.sharps_flats = key.fifths;
  ks.minor = key.minor;
  score.key_signatures = {{0, ks}};
  const std::vector<uint8_t> bytes = midi::encode_midi(music::score_to_midi(score));
  return std::string(bytes.begin(), bytes.end());
}

std::string chorale_musicxml(const music::Chorale& c, const std::string& title) {
  return to_musicxml(c, title);
}

std::string chorale_notes_json(const music::Chorale& c) {
  const music::ChoraleGrid& grid = c.grid;
  const int lead_rests = c.lead_rests();
  nlohmann::json notes = nlohmann::json::array();
  for (const music::SpelledNote& n : music::spelled_notes(c)) {
    notes.push_back({n.voice, n.start + lead_rests, n.length, n.pitch, music::pitch_name(n.pitch, n.fifths)});
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
