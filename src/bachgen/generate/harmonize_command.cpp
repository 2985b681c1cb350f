// `bachgen harmonize` and `bachgen infill`.
#include "bachgen/generate/harmonize_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "bachgen/data/jsb.h"
#include "bachgen/generate/chorale_output.h"
#include "bachgen/generate/command_errors.h"
#include "bachgen/generate/infill.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/model/model_file.h"
#include "bachgen/music/melody.h"
#include "bachgen/music/score.h"
#include "bachgen/music/voice_leading.h"
#include "bachgen/runtime/build_info.h"

namespace bachgen::generate {

namespace {

void check_common(const InfillCommonSettings& c) {
  if (c.out.empty()) throw std::runtime_error("no output name (--out)");
  check_audio_format(c.audio);
  if (c.voice_leading != "strict" && c.voice_leading != "off") {
    throw std::runtime_error("--voice-leading must be strict or off, not " + c.voice_leading);
  }
  if (c.count < 1) throw std::runtime_error("--count must be at least 1");
  if (c.passes < 0) throw std::runtime_error("--passes must be 0 (automatic) or more");
}

// Draws `count` results and writes them; shared by both commands.
InfillReport draw_and_write(const InfillCommonSettings& c, const music::ChoraleGrid& grid,
                            const std::vector<std::array<bool, music::kVoices>>& regenerate,
                            const ChoraleOutputOptions& output, int64_t step_offset, const std::string& what) {
  const model::LoadedModel loaded = model::load_model(resolve_model(c.model, "jsb-infill"), "satb16");
  if (loaded.spec.kind != "chorale-infill") {
    throw std::runtime_error("--model " + (c.model.empty() ? std::string("jsb-infill") : c.model) + " is a " + loaded.spec.kind +
                             " (a next-token model); " + what + " needs a conditioning model (chorale-infill), e.g. the bundled jsb-infill");
  }
  InfillReport report;
  for (int r = 0; r < c.count; ++r) {
    InfillOptions o;
    o.sampling = c.sampling;
    o.seed = c.seed + static_cast<uint64_t>(r);
    o.passes = c.passes;
    o.voice_leading = c.voice_leading == "strict";
    o.step_offset = step_offset;
    o.time_limit_seconds = c.time_limit_seconds;
    InfillStats stats;
    const music::ChoraleGrid result = infill_grid(*loaded.model, grid, regenerate, o, &stats);
    report.variables = stats.variables;
    report.fallbacks += stats.fallbacks;
    report.seconds += stats.seconds;
    const std::string name = c.out + (c.count == 1 ? "" : "-" + std::to_string(r + 1));
    for (const std::string& f : write_chorale(result, name, output)) report.files.push_back(f);
    report.grids.push_back(result);
  }
  report.output = output;
  char line[256];
  std::snprintf(line, sizeof line, "%s: %d result(s), %lld variables drawn each, in %.2f s\n", what.c_str(), c.count,
                static_cast<long long>(report.variables), report.seconds);
  report.text = line;
  if (c.voice_leading == "strict") {
    report.text += "voice leading: strict (" + std::to_string(report.fallbacks) + " variables fell back to the range alone)\n";
  }
  for (const std::string& f : report.files) report.text += "wrote " + f + "\n";
  return report;
}

}  // namespace

InfillReport run_harmonize(const HarmonizeSettings& s) {
  check_common(s.common);
  if (s.melody.empty() == s.notes.empty()) throw std::runtime_error("give the melody as --melody FILE or --notes TEXT (one of them)");
  music::Melody melody;
  const std::string option = s.notes.empty() ? "melody" : "notes";
  try {
    melody = s.notes.empty() ? music::read_melody(s.melody) : music::parse_melody_text(s.notes);
    music::check_soprano(melody, s.notes.empty() ? s.melody : "--notes", music::kVoiceLowest[0], music::kVoiceHighest[0],
                         s.max_steps);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw OptionError(option, s.notes.empty() || what.rfind("--notes", 0) == 0 ? what : "--notes: " + what);
  }
  music::ChoraleGrid grid;
  grid.pitches.resize(melody.steps());
  grid.onsets.resize(melody.steps());
  std::vector<std::array<bool, music::kVoices>> regenerate(melody.steps(), {false, true, true, true});
  for (size_t t = 0; t < melody.steps(); ++t) {
    grid.pitches[t] = {melody.pitches[t], music::kSilent, music::kSilent, music::kSilent};
    grid.onsets[t] = {static_cast<bool>(melody.onsets[t]), false, false, false};
  }
  ChoraleOutputOptions output;
  output.tempo = s.common.tempo > 0 ? s.common.tempo : (melody.tempo_bpm > 0 ? melody.tempo_bpm : 80);
  output.steps_per_bar = melody.steps_per_bar;
  output.lead_rests = melody.pickup_steps > 0 ? melody.steps_per_bar - melody.pickup_steps : 0;
  output.audio = s.common.audio;
  output.soundfont = s.common.soundfont;
  // The model's beat table is 4/4 from the first step; a pickup shifts the melody into place.
  const int64_t offset = melody.steps_per_bar == 16 ? output.lead_rests : 0;
  return draw_and_write(s.common, grid, regenerate, output, offset, "harmonize");
}

InfillReport run_infill(const InfillSettings& s) {
  check_common(s.common);
  if (s.input.empty()) throw std::runtime_error("no --input");
  auto [first_bar, last_bar] = parse_bar_range(s.bars);
  const std::array<bool, 4> voices = parse_voices(s.voices);
  music::ChoraleGrid grid;
  int steps_per_bar = 16;
  double tempo = 0;
  const bool midi = s.input.size() > 4 && (s.input.substr(s.input.size() - 4) == ".mid" || s.input.substr(s.input.size() - 5) == ".midi");
  if (midi) {
    music::Score score;
    try {
      score = music::score_from_midi(midi::read_midi_file(s.input));
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw std::runtime_error(what.rfind(s.input, 0) == 0 ? what : s.input + ": " + what);
    }
    if (score.voices() < 4) {
      throw std::runtime_error(s.input + ": " + std::to_string(score.voices()) + " voice track(s); infill reads four-part music (S, A, T, B tracks)");
    }
    if (score.ticks_per_quarter % 4 != 0) throw std::runtime_error(s.input + ": the tick resolution does not divide into 16ths");
    grid = music::score_to_grid(score);
    if (!score.time_signatures.empty()) {
      const midi::TimeSignature& ts = score.time_signatures.front().signature;
      if (ts.denominator > 0 && 16 % ts.denominator == 0) steps_per_bar = ts.numerator * 16 / ts.denominator;
    }
    if (!score.tempos.empty() && score.tempos.front().us_per_quarter > 0) {
      tempo = std::clamp(60e6 / score.tempos.front().us_per_quarter, 10.0, 400.0);
    }
  } else {
    std::string path = runtime::installed_jsb_path();
    std::string ref = s.input;
    const size_t json_at = s.input.find(".json:");
    if (json_at != std::string::npos) {
      path = s.input.substr(0, json_at + 5);
      ref = s.input.substr(json_at + 6);
    }
    const size_t colon = ref.find(':');
    if (colon == std::string::npos) throw std::runtime_error("--input " + s.input + ": a .mid file, or [FILE.json:]SPLIT:INDEX");
    const data::JsbCorpus corpus = data::load_jsb(path);
    const auto& split = corpus.split(ref.substr(0, colon));
    size_t used = 0;
    long long index = -1;
    try {
      index = std::stoll(ref.substr(colon + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || index < 0 || static_cast<size_t>(index) >= split.size()) {
      throw std::runtime_error("--input " + s.input + ": no chorale " + ref.substr(colon + 1) + " in that split (0-" +
                               std::to_string(split.size() - 1) + ")");
    }
    grid = split[static_cast<size_t>(index)];
  }
  const int64_t bars = (static_cast<int64_t>(grid.steps()) + steps_per_bar - 1) / steps_per_bar;
  if (s.bars == "all") last_bar = bars;
  if (last_bar > bars) {
    throw OptionError("bars", "--bars " + s.bars + ": " + s.input + " has " + std::to_string(bars) + " bar(s)");
  }
  for (const music::GridStep& step : grid.pitches) {
    for (int8_t p : step) {
      if (p != music::kSilent && (p < 36 || p > 81)) {
        throw std::runtime_error(s.input + ": pitch " + std::to_string(p) + " is outside the model's range 36-81");
      }
    }
  }
  std::vector<std::array<bool, music::kVoices>> regenerate(grid.steps(), {false, false, false, false});
  const size_t from = static_cast<size_t>((first_bar - 1) * steps_per_bar);
  const size_t to = std::min(grid.steps(), static_cast<size_t>(last_bar * steps_per_bar));
  for (size_t t = from; t < to; ++t) regenerate[t] = voices;
  ChoraleOutputOptions output;
  output.tempo = s.common.tempo > 0 ? s.common.tempo : (tempo > 0 ? tempo : 80);
  output.steps_per_bar = steps_per_bar;
  output.audio = s.common.audio;
  output.soundfont = s.common.soundfont;
  return draw_and_write(s.common, grid, regenerate, output, 0, "infill");
}

}  // namespace bachgen::generate
