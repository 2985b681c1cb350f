// `bachgen harmonize` and `bachgen infill`.
#include "bachgen/commands/harmonize_command.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "bachgen/commands/chorale_files.h"
#include "bachgen/data/jsb.h"
#include "bachgen/generate/errors.h"
#include "bachgen/io/files.h"
#include "bachgen/generate/harmonizer.h"
#include "bachgen/generate/infill_selection.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/key.h"
#include "bachgen/music/melody.h"
#include "bachgen/music/score.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/runtime/bundled_models.h"
#include "bachgen/runtime/cpu_features.h"

namespace bachgen::commands {

namespace {

using generate::Input;
using generate::InputError;

struct Common {
  generate::HarmonizeOptions options;
  render::AudioFormat audio = render::AudioFormat::kWav;
};

Common check_common(const InfillCommonSettings& c) {
  if (c.out.empty()) throw std::runtime_error("no output name (--out)");
  if (c.count < 1) throw std::runtime_error("--count must be at least 1");
  if (c.passes < 0) throw std::runtime_error("--passes must be 0 (automatic) or more");
  if (c.iterations < 0) throw std::runtime_error("--iterations must be 0 (automatic) or more");
  Common out;
  try {
    out.audio = render::parse_audio_format(c.audio);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--audio: ") + e.what());
  }
  try {
    out.options.voice_leading = music::parse_voice_leading(c.voice_leading);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--voice-leading: ") + e.what());
  }
  out.options.sampling = c.sampling;
  try {
    out.options.sampler = generate::parse_infill_sampler(c.sampler);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--sampler: ") + e.what());
  }
  if (c.rhythm != "eighths" && c.rhythm != "sixteenths") throw std::runtime_error("--rhythm " + c.rhythm + ": eighths or sixteenths");
  out.options.rhythm_steps = c.rhythm == "eighths" ? 2 : 1;
  out.options.passes = c.passes;
  out.options.iterations = c.iterations;
  if (!(c.final_temperature >= 0)) throw std::runtime_error("--final-temperature must be 0 (constant) or more");
  if (!(c.hold_temperature >= 0)) throw std::runtime_error("--hold-temperature must be 0 (no hold split) or more");
  out.options.final_temperature = c.final_temperature;
  out.options.hold_temperature = c.hold_temperature;
  try {
    out.options.precision = runtime::parse_precision(c.precision);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--precision: ") + e.what());
  }
  if (out.options.precision == runtime::Precision::kFp16) throw std::runtime_error("--precision fp16: the harmonizer runs on the CPU (auto, fp32 or bf16)");
  if (c.candidates < 1 || c.candidates > generate::kMaxInfillChains) {
    throw std::runtime_error("--candidates must be 1 to " + std::to_string(generate::kMaxInfillChains));
  }
  out.options.candidates = c.candidates;
  try {
    out.options.critic = generate::parse_critic(c.critic);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--critic: ") + e.what());
  }
  out.options.tempo = c.tempo;
  out.options.time_limit_seconds = c.time_limit_seconds;
  return out;
}

generate::Harmonizer load_harmonizer(const InfillCommonSettings& c) {
  try {
    return generate::Harmonizer(c.model);
  } catch (const InputError& e) {
    throw InputError(Input::kModel, "--model " + std::string(e.what()));
  }
}

// Draws `count` results (seeds seed, seed + 1, ...) and writes them; shared by both commands.
template <typename Draw>
InfillReport draw_and_write(const InfillCommonSettings& c, const Common& common, const std::string& what, Draw draw) {
  InfillReport report;
  ChoraleFiles files;
  files.audio = common.audio;
  files.soundfont = c.soundfont;
  for (int r = 0; r < c.count; ++r) {
    generate::HarmonizeOptions o = common.options;
    o.seed = c.seed + static_cast<uint64_t>(r);
    generate::HarmonizeStats stats;
    const music::Chorale result = draw(o, &stats);
    report.variables = stats.variables;
    report.fallbacks += stats.fallbacks;
    report.seconds += stats.seconds;
    report.bf16 = stats.bf16;
    report.chosen.push_back(stats.chosen);
    const std::string name = c.out + (c.count == 1 ? "" : "-" + std::to_string(r + 1));
    for (const std::string& f : files.write(result, name)) report.files.push_back(f);
    report.chorales.push_back(result);
  }
  char line[256];
  std::snprintf(line, sizeof line, "%s: %d result(s), %lld variables drawn each, in %.2f s (%s)\n", what.c_str(), c.count,
                static_cast<long long>(report.variables), report.seconds, report.bf16 ? "bf16" : "fp32");
  report.text = line;
  if (c.candidates > 1) {
    report.text += "critic: " + std::string(generate::critic_name(common.options.critic)) + ", kept candidate";
    for (const int64_t k : report.chosen) report.text += " " + std::to_string(k + 1);
    report.text += " of " + std::to_string(c.candidates) + "\n";
  }
  if (common.options.voice_leading == music::VoiceLeading::kStrict) {
    report.text += "voice leading: strict (" + std::to_string(report.fallbacks) + " variables fell back to the range alone)\n";
  }
  for (const std::string& f : report.files) report.text += "wrote " + f + "\n";
  return report;
}

// --input: a four-part MIDI file (its meter and tempo) or a JSB chorale.
music::Chorale read_chorale_input(const std::string& input) {
  music::Chorale chorale;
  chorale.tempo = 0;
  if (!io::has_midi_extension(input)) {
    try {
      chorale.grid = data::load_jsb_piece(data::parse_jsb_ref(input, runtime::installed_jsb_path()));
    } catch (const std::exception& e) {
      throw InputError(Input::kChorale, "--input " + input + ": " + e.what());
    }
    return chorale;
  }
  music::Score score;
  try {
    score = music::score_from_midi(midi::read_midi_file(input));
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw InputError(Input::kChorale, what.rfind(input, 0) == 0 ? what : input + ": " + what);
  }
  if (score.voices() < 4) {
    throw InputError(Input::kChorale, input + ": " + std::to_string(score.voices()) +
                                          " voice track(s); infill reads four-part music (S, A, T, B tracks)");
  }
  if (score.ticks_per_quarter % 4 != 0) throw InputError(Input::kChorale, input + ": the tick resolution does not divide into 16ths");
  chorale.grid = music::score_to_grid(score);
  if (!score.time_signatures.empty()) {
    const midi::TimeSignature& ts = score.time_signatures.front().signature;
    if (ts.denominator > 0 && 16 % ts.denominator == 0) chorale.steps_per_bar = ts.numerator * 16 / ts.denominator;
  }
  if (!score.tempos.empty() && score.tempos.front().us_per_quarter > 0) {
    chorale.tempo = std::clamp(60e6 / score.tempos.front().us_per_quarter, 10.0, 400.0);
  }
  return chorale;
}

}  // namespace

InfillReport run_harmonize(const HarmonizeSettings& s) {
  const Common common = check_common(s.common);
  if (s.melody.empty() == s.notes.empty()) throw std::runtime_error("give the melody as --melody FILE or --notes TEXT (one of them)");
  const bool from_text = !s.notes.empty();
  const Input input = from_text ? Input::kNotes : Input::kMelody;
  music::Melody melody;
  try {
    melody = from_text ? music::parse_melody_text(s.notes) : music::read_melody(s.melody);
  } catch (const std::exception& e) {
    throw InputError(input, from_text ? std::string("--notes: ") + e.what() : std::string(e.what()));
  }
  if (s.transpose != "off" && s.transpose != "auto") throw std::runtime_error("--transpose " + s.transpose + ": off or auto");
  const bool transpose = s.transpose == "auto";
  if (s.cadence != "tonic" && s.cadence != "free") throw std::runtime_error("--cadence " + s.cadence + ": tonic or free");
  const std::string where = from_text ? "--notes" : s.melody;
  std::optional<music::KeyGuess> key;
  if (!s.key.empty()) {
    try {
      key = music::parse_key(s.key);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("--key: ") + e.what());
    }
  }
  // The melody's range and length first: a bad melody fails before the model loads.
  try {
    bool by_octaves = true;
    const int shift = transpose ? music::fitting_shift(melody, music::kVoiceLowest[0], music::kVoiceHighest[0], &by_octaves) : 0;
    music::check_soprano(music::shifted_melody(melody, shift), where, music::kVoiceLowest[0], music::kVoiceHighest[0], s.max_steps);
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    throw InputError(input, what.rfind(where, 0) == 0 ? what : where + ": " + what);
  }
  generate::Harmonizer harmonizer = load_harmonizer(s.common);
  Common with_limit = common;
  with_limit.options.max_steps = s.max_steps;
  with_limit.options.transpose_auto = transpose;
  with_limit.options.tonic_cadence = s.cadence == "tonic";
  with_limit.options.key = key;
  generate::HarmonizeStats last;
  InfillReport report = draw_and_write(s.common, with_limit, "harmonize", [&](const generate::HarmonizeOptions& o, generate::HarmonizeStats* stats) {
    music::Chorale c = harmonizer.harmonize(melody, o, stats, input, where);
    last = *stats;
    return c;
  });
  report.text += "key: " + last.key + " (" + last.key_from + ")\n";
  if (with_limit.options.tonic_cadence) {
    report.text += last.cadence ? "cadence: the final chord held to the tonic triad, the tonic in the bass\n"
                                : "cadence: free (the melody does not end on a note of its key's tonic triad)\n";
  }
  if (last.melody_moved != 0) {
    const int m = last.melody_moved;
    const std::string moved = m % 12 == 0 ? std::to_string(std::abs(m) / 12) + " octave(s) " + (m > 0 ? "up" : "down")
                                          : std::to_string(std::abs(m)) + " semitone(s) " + (m > 0 ? "up" : "down");
    report.text = "--transpose auto: the melody moved " + moved + " to fit the soprano's C4-A5" +
                  (last.moved_back ? ", harmonized there, and the result moved back into its key" : "") + "\n" + report.text;
  }
  return report;
}

InfillReport run_infill(const InfillSettings& s) {
  const Common common = check_common(s.common);
  if (s.input.empty()) throw std::runtime_error("no --input");
  generate::Selection selection;
  std::tie(selection.first_bar, selection.last_bar) = generate::parse_bar_range(s.bars);
  selection.voices = generate::parse_voices(s.voices);
  music::Chorale chorale = read_chorale_input(s.input);
  const double input_tempo = chorale.tempo;
  chorale.tempo = s.common.tempo > 0 ? s.common.tempo : (input_tempo > 0 ? input_tempo : 80);
  if (s.bars != "all" && selection.last_bar > chorale.bars()) {
    throw InputError(Input::kSelection, "--bars " + s.bars + ": " + s.input + " has " + std::to_string(chorale.bars()) + " bar(s)");
  }
  generate::Harmonizer harmonizer = load_harmonizer(s.common);
  return draw_and_write(s.common, common, "infill", [&](const generate::HarmonizeOptions& o, generate::HarmonizeStats* stats) {
    try {
      return harmonizer.redraw(chorale, selection, o, stats);
    } catch (const InputError& e) {
      if (e.input != Input::kChorale) throw;
      throw InputError(Input::kChorale, s.input + ": " + e.what());
    }
  });
}

}  // namespace bachgen::commands
