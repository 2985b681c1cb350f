// `bachgen generate`.
#include "bachgen/generate/generate_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "bachgen/data/token_input.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/generate/generator.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/model/model_file.h"
#include "bachgen/render/audio.h"
#include "bachgen/render/musicxml.h"
#include "bachgen/music/score.h"
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
    input = runtime::resource_dir() + "/data/jsb-chorales/Jsb16thSeparated.json:" + input;  // SPLIT:INDEX
  }
  std::vector<data::TokenPiece> pieces;
  try {
    pieces = data::read_token_input(input, vocab);
  } catch (const std::exception& e) {
    throw std::runtime_error("--primer " + s.primer + ": " + e.what());
  }
  std::vector<int32_t> tokens = pieces.at(0).tokens;
  if (!tokens.empty() && tokens.back() == tokenize::ChoraleTokens::kEos) tokens.pop_back();
  if (vocab != data::VocabId::kPerformance388 && s.primer_steps > 0) {
    const size_t keep = 1 + 4 * static_cast<size_t>(s.primer_steps);
    if (tokens.size() > keep) tokens.resize(keep);
  }
  return tokens;
}

}  // namespace

GenerateReport run_generate(const GenerateSettings& s) {
  if (s.out.empty()) throw std::runtime_error("no output name (--out)");
  if (s.audio != "wav" && s.audio != "flac" && s.audio != "none") {
    throw std::runtime_error("--audio must be wav, flac or none, not " + s.audio);
  }
  if (s.voice_leading != "strict" && s.voice_leading != "off") {
    throw std::runtime_error("--voice-leading must be strict or off, not " + s.voice_leading);
  }
  const model::LoadedModel loaded = model::load_model(s.model);
  const data::VocabId vocab = data::parse_vocab(loaded.spec.vocab);
  const bool chorale = vocab != data::VocabId::kPerformance388;
  const std::vector<int32_t> primer = read_primer(s, vocab);
  std::shared_ptr<int64_t> fallbacks;
  GenerateOptions o;
  o.sampling = s.sampling;
  o.seed = s.seed;
  o.count = s.count;
  o.use_cache = s.use_cache;
  o.eos = tokenize::ChoraleTokens::kEos;
  if (chorale) {
    const int64_t primer_steps = static_cast<int64_t>(primer.size() - 1) / 4;
    const int64_t total_steps = s.steps > 0 ? s.steps : s.bars * kStepsPerBar;
    if (total_steps <= primer_steps) {
      throw std::runtime_error("the primer already has " + std::to_string(primer_steps) + " steps; ask for more than that (--bars / --steps)");
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
  const std::vector<std::vector<int32_t>> rows = generate_tokens(*loaded.model, primer, o, &stats);
  GenerateReport report;
  report.new_tokens = stats.new_tokens;
  report.seconds = stats.seconds;
  report.tokens_per_second = stats.new_tokens / std::max(stats.seconds, 1e-9);
  report.voice_leading_fallbacks = fallbacks ? *fallbacks : 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string name = s.out + (rows.size() == 1 ? "" : "-" + std::to_string(r + 1));
    const std::string path = name + ".mid";
    midi::MidiFile file;
    if (chorale) {
      std::vector<int32_t> tokens = rows[r];
      if (tokens.back() != tokenize::ChoraleTokens::kEos) {
        tokens.resize(1 + (tokens.size() - 1) / 4 * 4);  // whole steps
        tokens.push_back(tokenize::ChoraleTokens::kEos);
      }
      const music::ChoraleGrid grid = vocab == data::VocabId::kSatb16Onset ? tokenize::decode_satb16_onset(tokens)
                                                                          : tokenize::decode_satb16(tokens);
      const auto us_per_quarter = static_cast<uint32_t>(60e6 / std::max(s.tempo, 1.0));
      file = music::score_to_midi(music::grid_to_score(grid, 480, us_per_quarter));
      midi::write_midi_file(path, file);
      report.files.push_back(path);
      render::MusicXmlOptions xml;
      xml.title = name.substr(name.find_last_of('/') + 1);
      xml.tempo_bpm = static_cast<int>(std::lround(s.tempo));
      render::write_musicxml(name + ".musicxml", grid, xml);
      report.files.push_back(name + ".musicxml");
    } else {
      file = tokenize::performance_to_midi(tokenize::decode_performance(rows[r]));
      midi::write_midi_file(path, file);
      report.files.push_back(path);
    }
    if (s.audio != "none") {
      render::AudioOptions audio;
      audio.format = s.audio;
      audio.soundfont = s.soundfont;
      render::render_audio(path, name + "." + s.audio, audio);
      report.files.push_back(name + "." + s.audio);
    }
  }
  char line[256];
  std::snprintf(line, sizeof line, "generated %d sample(s), %lld new tokens in %.2f s (%.0f tokens/s, %s)\n",
                s.count, static_cast<long long>(stats.new_tokens), stats.seconds, report.tokens_per_second,
                s.use_cache ? "KV cache" : "no cache");
  report.text = line;
  if (chorale && s.voice_leading == "strict") {
    report.text += "voice leading: strict (" + std::to_string(report.voice_leading_fallbacks) +
                   " positions fell back to the unmasked distribution)\n";
  }
  for (const std::string& f : report.files) report.text += "wrote " + f + "\n";
  return report;
}

}  // namespace bachgen::generate
