// `bachgen generate`.
#include "bachgen/commands/generate_command.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>

#include "bachgen/commands/chorale_files.h"
#include "bachgen/data/jsb.h"
#include "bachgen/data/token_input.h"
#include "bachgen/generate/composer.h"
#include "bachgen/generate/errors.h"
#include "bachgen/generate/generator.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/model/model_file.h"
#include "bachgen/music/score.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/runtime/bundled_models.h"
#include "bachgen/tokenize/performance388.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::commands {

namespace {

using generate::Input;
using generate::InputError;

constexpr int kStepsPerBar = 16;  // 4/4 in 16ths

// --primer for a chorale model: a four-part MIDI file or a JSB piece, as a grid.
music::ChoraleGrid read_chorale_primer(const std::string& primer) {
  try {
    if (io::has_midi_extension(primer)) {
      const music::Score score = music::score_from_midi(midi::read_midi_file(primer));
      if (score.voices() != music::kVoices) {
        throw std::runtime_error(primer + ": has " + std::to_string(score.voices()) + " voices; a chorale primer needs 4 (S, A, T, B)");
      }
      return music::score_to_grid(score);
    }
    return data::load_jsb_piece(data::parse_jsb_ref(primer, runtime::installed_jsb_path()));
  } catch (const std::exception& e) {
    throw InputError(Input::kPrimer, "--primer " + primer + ": " + e.what());
  }
}

// A performance model's primer: its events, cut to nothing else.
std::vector<int32_t> read_performance_primer(const std::string& primer) {
  if (primer.empty()) return {tokenize::ChoraleTokens::kBos};  // BOS is 1 in every vocabulary
  std::string input = primer;
  if (!io::has_midi_extension(input) && input.find(".json:") == std::string::npos) input = runtime::installed_jsb_path() + ":" + input;
  std::vector<data::TokenPiece> pieces;
  try {
    pieces = data::read_token_input(input, tokenize::VocabId::kPerformance388);
  } catch (const std::exception& e) {
    throw InputError(Input::kPrimer, "--primer " + primer + ": " + e.what());
  }
  std::vector<int32_t> tokens = pieces.at(0).tokens;
  if (!tokens.empty() && tokens.back() == tokenize::ChoraleTokens::kEos) tokens.pop_back();
  return tokens;
}

std::string summary_line(const GenerateSettings& s, int64_t new_tokens, double seconds, const std::string& decoder) {
  char line[256];
  std::snprintf(line, sizeof line, "generated %d sample(s), %lld new tokens in %.2f s (%.0f tokens/s, %s, %s decoder)\n", s.count,
                static_cast<long long>(new_tokens), seconds, new_tokens / std::max(seconds, 1e-9),
                s.use_cache ? "KV cache" : "no cache", decoder.c_str());
  return line;
}

// Performance models (performance388) compose MIDI events: the generator itself, no Composer.
GenerateReport run_performance(const GenerateSettings& s, const model::LoadedModel& loaded, const render::AudioFormat audio,
                               const generate::GenerateOptions& base) {
  generate::GenerateOptions o = base;
  o.count = s.count;
  o.max_new_tokens = s.steps > 0 ? s.steps : 2048;
  o.eos = tokenize::ChoraleTokens::kEos;
  generate::GenerateStats stats;
  const std::vector<std::vector<int32_t>> rows = generate::generate_tokens(*loaded.model, read_performance_primer(s.primer), o, &stats);
  GenerateReport report;
  report.new_tokens = stats.new_tokens;
  report.seconds = stats.seconds;
  report.tokens_per_second = stats.new_tokens / std::max(stats.seconds, 1e-9);
  ChoraleFiles files;
  files.audio = audio;
  files.soundfont = s.soundfont;
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string name = s.out + (rows.size() == 1 ? "" : "-" + std::to_string(r + 1));
    const std::vector<uint8_t> bytes = midi::encode_midi(tokenize::performance_to_midi(tokenize::decode_performance(rows[r])));
    io::write_file_atomically(name + ".mid", bytes);
    report.files.push_back(name + ".mid");
    if (audio != render::AudioFormat::kNone) report.files.push_back(files.write_audio(std::string(bytes.begin(), bytes.end()), name));
  }
  report.text = summary_line(s, stats.new_tokens, stats.seconds, stats.decoder);
  for (const std::string& f : report.files) report.text += "wrote " + f + "\n";
  return report;
}

template <typename Parse>
auto parse_flag(const char* flag, const std::string& value, Parse parse) {
  try {
    return parse(value);
  } catch (const std::invalid_argument& e) {
    throw InputError(Input::kOption, std::string(flag) + ": " + e.what());
  }
}

}  // namespace

GenerateReport run_generate(const GenerateSettings& s) {
  if (s.out.empty()) throw std::runtime_error("no output name (--out)");
  const render::AudioFormat audio = parse_flag("--audio", s.audio, render::parse_audio_format);
  const music::VoiceLeading rules = parse_flag("--voice-leading", s.voice_leading, music::parse_voice_leading);
  generate::ComposerOptions co;
  co.decoder = parse_flag("--decoder", s.decoder, generate::parse_decoder);
  co.weights = parse_flag("--decode-weights", s.decode_weights, model::parse_decode_weights);
  co.use_cache = s.use_cache;
  std::optional<music::KeyGuess> key;
  if (!s.key.empty()) {
    try {
      key = music::parse_key(s.key);
    } catch (const std::invalid_argument& e) {
      throw InputError(Input::kKey, std::string("--key: ") + e.what());
    }
  }
  const std::string path = runtime::resolve_model(s.model, runtime::kDefaultComposer);
  std::optional<generate::Composer> composer;
  try {
    composer.emplace(s.model, co);
  } catch (const InputError& e) {
    // Not a chorale composer: a performance model composes through the generator itself.
    model::LoadedModel loaded = model::load_model(path);
    if (loaded.spec.vocab != tokenize::vocab_name(tokenize::VocabId::kPerformance388)) {
      throw InputError(Input::kModel, "--model " + std::string(e.what()));
    }
    if (key) throw std::runtime_error("--key applies to chorales, not to performance models");
    generate::GenerateOptions o;
    o.sampling = s.sampling;
    o.seed = s.seed;
    o.use_cache = s.use_cache;
    o.fast_decoder = co.decoder == generate::Decoder::kFast;
    o.decode_weights = co.weights;
    o.time_limit_seconds = s.time_limit_seconds;
    return run_performance(s, loaded, audio, o);
  }
  generate::ComposeOptions o;
  o.sampling = s.sampling;
  o.seed = s.seed;
  o.count = s.count;
  if (s.meter != "4/4" && s.meter != "3/4") throw InputError(Input::kOption, "--meter is 4/4 or 3/4, not '" + s.meter + "'");
  o.steps_per_bar = s.meter == "3/4" ? 12 : kStepsPerBar;
  o.pickup_steps = s.pickup;
  o.candidates = s.candidates;
  o.steps = s.steps > 0 ? s.steps : s.bars * o.steps_per_bar;
  o.bars = s.steps > 0 ? 0 : s.bars;
  o.full_length = s.full_length;
  o.voice_leading = rules;
  o.key = key;
  o.primer_steps = s.primer_steps;
  o.tempo = s.tempo;
  o.time_limit_seconds = s.time_limit_seconds;
  std::optional<music::ChoraleGrid> primer;
  if (!s.primer.empty()) primer = read_chorale_primer(s.primer);
  generate::ComposeStats stats;
  std::vector<generate::Composition> pieces;
  try {
    pieces = composer->compose(o, primer ? &*primer : nullptr, &stats);
  } catch (const InputError& e) {
    if (e.input != Input::kLength) throw;
    throw InputError(Input::kLength, std::string(e.what()) + " (--bars / --steps)");
  }
  GenerateReport report;
  report.new_tokens = stats.new_tokens;
  report.seconds = stats.seconds;
  report.tokens_per_second = stats.tokens_per_second();
  report.voice_leading_fallbacks = stats.voice_leading_fallbacks;
  ChoraleFiles files;
  files.audio = audio;
  files.soundfont = s.soundfont;
  std::string key_lines;
  for (size_t r = 0; r < pieces.size(); ++r) {
    const std::string name = s.out + (pieces.size() == 1 ? "" : "-" + std::to_string(r + 1));
    if (const auto& told = pieces[r].conditions) {
      key_lines += name + ": told " + tokenize::describe(*told) +
                   (pieces[r].candidates > 1 ? "; the best of " + std::to_string(pieces[r].candidates) + " candidates" : "") + "\n";
    }
    if (const auto& change = pieces[r].key_change) {
      key_lines += name + ": composed in " + change->from + ", transposed by " + std::to_string(change->semitones) + " semitones into " +
                   change->to + (change->mode_matches ? "" : " (no candidate was in the requested mode: try other seeds)") + "\n";
    }
    for (const std::string& f : files.write(pieces[r].chorale, name)) report.files.push_back(f);
    report.chorales.push_back(pieces[r].chorale);
  }
  report.text = summary_line(s, stats.new_tokens, stats.seconds, stats.decoder) + key_lines;
  if (rules == music::VoiceLeading::kStrict) {
    report.text += "voice leading: strict (" + std::to_string(report.voice_leading_fallbacks) +
                   " positions fell back to the unmasked distribution)\n";
  }
  for (const std::string& f : report.files) report.text += "wrote " + f + "\n";
  return report;
}

}  // namespace bachgen::commands
