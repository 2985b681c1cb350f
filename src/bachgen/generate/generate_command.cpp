// `bachgen generate`.
#include "bachgen/generate/generate_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>

#include "bachgen/data/jsb.h"
#include "bachgen/data/token_input.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/generate/chorale_output.h"
#include "bachgen/generate/command_errors.h"
#include "bachgen/generate/generator.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/model/model_file.h"
#include "bachgen/render/audio.h"
#include "bachgen/render/musicxml.h"
#include "bachgen/music/score.h"
#include "bachgen/music/voice_leading.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/tokenize/performance388.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::generate {

namespace {

constexpr int kStepsPerBar = 16;  // 4/4 in 16ths

std::vector<int32_t> read_primer(const GenerateSettings& s, data::VocabId vocab) {
  if (s.primer.empty()) return {tokenize::ChoraleTokens::kBos};  // BOS is 1 in every vocabulary
  std::string input = s.primer;
  const bool midi = input.size() > 4 && (input.substr(input.size() - 4) == ".mid" || input.substr(input.size() - 5) == ".midi");
  if (!midi && input.find(".json:") == std::string::npos) {
    input = runtime::installed_jsb_path() + ":" + input;  // SPLIT:INDEX
  }
  std::vector<data::TokenPiece> pieces;
  try {
    pieces = data::read_token_input(input, vocab);
  } catch (const std::exception& e) {
    throw OptionError("primer", "--primer " + s.primer + ": " + e.what());
  }
  std::vector<int32_t> tokens = pieces.at(0).tokens;
  if (!tokens.empty() && tokens.back() == tokenize::ChoraleTokens::kEos) tokens.pop_back();
  if (vocab != data::VocabId::kPerformance388 && s.primer_steps > 0) {
    const size_t keep = 1 + 4 * static_cast<size_t>(s.primer_steps);
    if (tokens.size() > keep) tokens.resize(keep);
  }
  return tokens;
}

// --key without a primer: the first beat (4 steps) of a JSB training chorale in the requested
// mode, chosen by the seed and transposed so that its key's tonic is the requested one. Empty
// when the JSB data is not installed (the candidates and the transposition still apply).
std::vector<int32_t> key_primer(const render::KeyGuess& key, uint64_t seed, data::VocabId vocab) {
  const std::string path = runtime::installed_jsb_path();
  if (!io::is_regular_file(path)) return {};
  const data::JsbCorpus jsb = data::load_jsb(path);
  std::vector<std::pair<const music::ChoraleGrid*, int>> in_mode;  // and each one's tonic
  for (const music::ChoraleGrid& g : jsb.train) {
    if (g.steps() < 4) continue;
    const render::KeyGuess guess = render::guess_key(g);
    if (guess.minor == key.minor) in_mode.push_back({&g, guess.tonic});
  }
  if (in_mode.empty()) return {};
  const auto& [source, tonic] = in_mode[static_cast<size_t>(seed % in_mode.size())];
  music::ChoraleGrid chosen = *source;
  chosen.pitches.resize(4);
  if (chosen.knows_onsets()) chosen.onsets.resize(4);
  int shift = ((key.tonic - tonic) % 12 + 12) % 12;
  if (shift > 5) shift -= 12;  // the nearer way, -6 .. 5
  for (music::GridStep& step : chosen.pitches) {
    for (int8_t& p : step) {
      if (p != music::kSilent) p = static_cast<int8_t>(std::clamp(p + shift, 36, 81));
    }
  }
  std::vector<int32_t> tokens = data::encode_grid(chosen, vocab);
  if (!tokens.empty() && tokens.back() == tokenize::ChoraleTokens::kEos) tokens.pop_back();
  return tokens;
}

// A generated row as a grid: cut to whole steps (a row stopped by the length may end mid-step)
// and closed with EOS.
music::ChoraleGrid decode_row(std::vector<int32_t> tokens, data::VocabId vocab) {
  if (tokens.back() != tokenize::ChoraleTokens::kEos) {
    tokens.resize(1 + (tokens.size() - 1) / 4 * 4);
    tokens.push_back(tokenize::ChoraleTokens::kEos);
  }
  return vocab == data::VocabId::kSatb16Onset ? tokenize::decode_satb16_onset(tokens) : tokenize::decode_satb16(tokens);
}

}  // namespace

KeyChange transpose_into_key(music::ChoraleGrid& grid, const render::KeyGuess& target) {
  const render::KeyGuess found = render::guess_key(grid);
  KeyChange change;
  change.from = found.name();
  change.mode_matches = found.minor == target.minor;
  // The tonic moves to the target's; of the octave choices, the one that keeps the most notes
  // inside their voice's range wins, the smaller shift on a tie.
  const int base = ((target.tonic - found.tonic) % 12 + 12) % 12;
  int best = 0;
  int64_t best_inside = -1;
  for (int shift : {base, base - 12, base + 12, base - 24}) {
    int64_t inside = 0;
    bool fits = true;  // MIDI's 0-127
    for (const music::GridStep& step : grid.pitches) {
      for (size_t v = 0; v < 4; ++v) {
        if (step[v] == music::kSilent) continue;
        const int p = step[v] + shift;
        fits = fits && p >= 0 && p <= 127;
        inside += p >= music::kVoiceLowest[v] && p <= music::kVoiceHighest[v];
      }
    }
    if (fits && (inside > best_inside || (inside == best_inside && std::abs(shift) < std::abs(best)))) {
      best = shift;
      best_inside = inside;
    }
  }
  for (music::GridStep& step : grid.pitches) {
    for (int8_t& p : step) {
      if (p != music::kSilent) p = static_cast<int8_t>(p + best);
    }
  }
  change.semitones = best;
  change.to = change.mode_matches ? target.name() : render::guess_key(grid).name();
  return change;
}

GenerateReport run_generate(const GenerateSettings& s) {
  if (s.out.empty()) throw std::runtime_error("no output name (--out)");
  check_audio_format(s.audio);
  if (s.voice_leading != "strict" && s.voice_leading != "off") {
    throw std::runtime_error("--voice-leading must be strict or off, not " + s.voice_leading);
  }
  const model::LoadedModel loaded = model::load_model(resolve_model(s.model, "jsb-default"));
  if (loaded.spec.kind == "chorale-infill") {
    throw std::runtime_error("--model " + s.model + " is a conditioning model: it harmonizes and infills (bachgen harmonize, bachgen infill) "
                             "but does not compose from left to right");
  }
  const data::VocabId vocab = data::parse_vocab(loaded.spec.vocab);
  const bool chorale = vocab != data::VocabId::kPerformance388;
  if (!chorale && !s.key.empty()) throw std::runtime_error("--key applies to chorales, not to performance models");
  std::vector<int32_t> primer = read_primer(s, vocab);
  std::shared_ptr<int64_t> fallbacks;
  GenerateOptions o;
  o.sampling = s.sampling;
  o.seed = s.seed;
  // --key conditions on the mode by drawing eight candidates per result and keeping those in
  // the requested mode first; the kept ones are then transposed to the requested tonic.
  std::optional<render::KeyGuess> key;
  if (!s.key.empty()) {
    try {
      key = render::parse_key(s.key);
    } catch (const std::invalid_argument& e) {
      throw OptionError("key", std::string("--key: ") + e.what());
    }
  }
  if (key && chorale && s.primer.empty()) {
    const std::vector<int32_t> conditioned = key_primer(*key, s.seed, vocab);
    if (!conditioned.empty()) primer = conditioned;
  }
  constexpr int kKeyCandidates = 8;
  o.count = key ? kKeyCandidates * s.count : s.count;
  o.use_cache = s.use_cache;
  if (s.decoder != "fast" && s.decoder != "torch") throw OptionError("decoder", "--decoder: fast or torch, not '" + s.decoder + "'");
  o.fast_decoder = s.decoder == "fast";
  try {
    o.decode_weights = model::parse_decode_weights(s.decode_weights);
  } catch (const std::invalid_argument& e) {
    throw OptionError("decode-weights", std::string("--decode-weights: ") + e.what());
  }
  o.time_limit_seconds = s.time_limit_seconds;
  o.eos = tokenize::ChoraleTokens::kEos;
  if (chorale) {
    const int64_t primer_steps = static_cast<int64_t>(primer.size() - 1) / 4;
    const int64_t total_steps = s.steps > 0 ? s.steps : s.bars * kStepsPerBar;
    if (total_steps <= primer_steps) {
      throw OptionError("bars", "the primer already has " + std::to_string(primer_steps) + " steps; ask for more than that (--bars / --steps)");
    }
    o.max_new_tokens = 4 * total_steps - static_cast<int64_t>(primer.size() - 1);
    ChoraleGrammar grammar;
    grammar.onset_vocab = vocab == data::VocabId::kSatb16Onset;
    grammar.voice_leading = s.voice_leading == "strict";
    grammar.allow_eos = !s.full_length;
    fallbacks = grammar.fallbacks;
    o.constraint = grammar;
  } else {
    o.max_new_tokens = s.steps > 0 ? s.steps : 2048;
  }
  GenerateStats stats;
  std::vector<std::vector<int32_t>> rows = generate_tokens(*loaded.model, primer, o, &stats);
  if (key) {
    std::vector<std::vector<int32_t>> matching, other;
    for (std::vector<int32_t>& row : rows) {
      const music::ChoraleGrid grid = decode_row(row, vocab);
      (render::guess_key(grid).minor == key->minor ? matching : other).push_back(std::move(row));
    }
    rows = std::move(matching);
    for (auto& row : other) rows.push_back(std::move(row));
    rows.resize(static_cast<size_t>(s.count));
  }
  GenerateReport report;
  report.new_tokens = stats.new_tokens;
  report.seconds = stats.seconds;
  report.tokens_per_second = stats.new_tokens / std::max(stats.seconds, 1e-9);
  report.voice_leading_fallbacks = fallbacks ? *fallbacks : 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string name = s.out + (rows.size() == 1 ? "" : "-" + std::to_string(r + 1));
    if (chorale) {
      music::ChoraleGrid grid = decode_row(rows[r], vocab);
      if (!s.key.empty()) {
        const KeyChange change = transpose_into_key(grid, *key);
        report.text += name + ": composed in " + change.from + ", transposed by " + std::to_string(change.semitones) +
                       " semitones into " + change.to +
                       (change.mode_matches ? "" : " (no candidate was in the requested mode: try other seeds)") + "\n";
      }
      ChoraleOutputOptions output;
      output.tempo = s.tempo;
      output.audio = s.audio;
      output.soundfont = s.soundfont;
      for (const std::string& f : write_chorale(grid, name, output)) report.files.push_back(f);
      report.grids.push_back(std::move(grid));
      report.output = output;
    } else {
      const std::string path = name + ".mid";
      midi::write_midi_file(path, tokenize::performance_to_midi(tokenize::decode_performance(rows[r])));
      report.files.push_back(path);
      if (s.audio != "none") {
        render::AudioOptions audio;
        audio.format = s.audio;
        audio.soundfont = s.soundfont;
        render::render_audio(path, name + "." + s.audio, audio);
        report.files.push_back(name + "." + s.audio);
      }
    }
  }
  char line[256];
  std::snprintf(line, sizeof line, "generated %d sample(s), %lld new tokens in %.2f s (%.0f tokens/s, %s, %s decoder)\n",
                s.count, static_cast<long long>(stats.new_tokens), stats.seconds, report.tokens_per_second,
                s.use_cache ? "KV cache" : "no cache", stats.decoder.c_str());
  report.text = line + report.text;
  if (chorale && s.voice_leading == "strict") {
    report.text += "voice leading: strict (" + std::to_string(report.voice_leading_fallbacks) +
                   " positions fell back to the unmasked distribution)\n";
  }
  for (const std::string& f : report.files) report.text += "wrote " + f + "\n";
  return report;
}

}  // namespace bachgen::generate
