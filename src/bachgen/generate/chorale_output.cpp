// Chorale output files and bundled-model names.
#include "bachgen/generate/chorale_output.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "bachgen/io/files.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/music/score.h"
#include "bachgen/render/audio.h"
#include "bachgen/render/musicxml.h"
#include "bachgen/runtime/build_info.h"

namespace bachgen::generate {

void check_audio_format(const std::string& audio) {
  if (audio != "wav" && audio != "flac" && audio != "none") {
    throw std::runtime_error("--audio must be wav, flac or none, not " + audio);
  }
}

std::vector<std::string> write_chorale(const music::ChoraleGrid& grid, const std::string& name,
                                       const ChoraleOutputOptions& o) {
  check_audio_format(o.audio);
  music::ChoraleGrid padded = grid;
  if (o.lead_rests > 0) {
    music::GridStep rest;
    rest.fill(music::kSilent);
    padded.pitches.insert(padded.pitches.begin(), static_cast<size_t>(o.lead_rests), rest);
    if (padded.knows_onsets()) padded.onsets.insert(padded.onsets.begin(), static_cast<size_t>(o.lead_rests), {false, false, false, false});
  }
  std::vector<std::string> files;
  const auto us_per_quarter = static_cast<uint32_t>(60e6 / std::max(o.tempo, 1.0));
  music::Score score = music::grid_to_score(padded, 480, us_per_quarter);
  if (o.steps_per_bar != 16) {
    midi::TimeSignature ts;
    ts.numerator = o.steps_per_bar % 4 == 0 ? o.steps_per_bar / 4 : o.steps_per_bar / 2;
    ts.denominator = o.steps_per_bar % 4 == 0 ? 4 : 8;
    score.time_signatures = {{0, ts}};
  }
  const std::string midi_path = name + ".mid";
  midi::write_midi_file(midi_path, music::score_to_midi(score));
  files.push_back(midi_path);
  render::MusicXmlOptions xml;
  xml.title = name.substr(name.find_last_of('/') + 1);
  xml.tempo_bpm = static_cast<int>(std::lround(o.tempo));
  xml.steps_per_bar = o.steps_per_bar;
  render::write_musicxml(name + ".musicxml", padded, xml);
  files.push_back(name + ".musicxml");
  if (o.audio != "none") {
    render::AudioOptions audio;
    audio.format = o.audio;
    audio.soundfont = o.soundfont;
    render::render_audio(midi_path, name + "." + o.audio, audio);
    files.push_back(name + "." + o.audio);
  }
  return files;
}

std::string bundled_models_dir() { return runtime::resource_dir() + "/models"; }

std::string resolve_model(const std::string& model, const std::string& default_name) {
  const std::string name = model.empty() ? default_name : model;
  if (!model.empty() && io::is_regular_file(model)) return model;
  const std::string dir = bundled_models_dir();
  const std::string bundled = dir + "/" + name + ".pt";
  if (io::is_regular_file(bundled)) return bundled;
  std::string names;
  try {
    for (const std::string& f : io::list_files(dir, {".pt"})) names += (names.empty() ? "" : ", ") + f.substr(0, f.size() - 3);
  } catch (const std::exception&) {
  }
  if (model.empty()) {
    throw std::runtime_error("no --model given and the bundled model '" + name + "' is not in " + dir +
                             " (models/README.md; set BACHGEN_HOME to the source tree)");
  }
  throw std::runtime_error("--model " + model + ": no such file, and no bundled model of that name" +
                           (names.empty() ? std::string(" (none bundled in ") + dir + ")" : " (bundled: " + names + ")"));
}

}  // namespace bachgen::generate
