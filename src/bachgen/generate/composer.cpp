// The composer: a chorale model loaded once, composing in memory.
#include "bachgen/generate/composer.h"

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>

#include "bachgen/data/jsb.h"
#include "bachgen/data/token_input.h"
#include "bachgen/generate/errors.h"
#include "bachgen/generate/generator.h"
#include "bachgen/io/files.h"
#include "bachgen/model/model_file.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/runtime/bundled_models.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::generate {

namespace {

using tokenize::ChoraleTokens;

// A generated row as a grid: cut to whole steps (a row stopped by the length may end mid-step)
// and closed with EOS.
music::ChoraleGrid decode_row(std::vector<int32_t> tokens, tokenize::VocabId vocab) {
  if (tokens.back() != ChoraleTokens::kEos) {
    tokens.resize(1 + (tokens.size() - 1) / 4 * 4);
    tokens.push_back(ChoraleTokens::kEos);
  }
  return vocab == tokenize::VocabId::kSatb16Onset ? tokenize::decode_satb16_onset(tokens) : tokenize::decode_satb16(tokens);
}

// A JSB training chorale's first beat and its key, for key_primer.
struct FirstBeat {
  music::ChoraleGrid beat;
  music::KeyGuess key;
};

}  // namespace

Decoder parse_decoder(const std::string& name) {
  if (name == "fast") return Decoder::kFast;
  if (name == "torch") return Decoder::kTorch;
  throw std::invalid_argument("the decoder is fast or torch, not '" + name + "'");
}

const char* decoder_name(Decoder decoder) { return decoder == Decoder::kFast ? "fast" : "torch"; }

struct Composer::State {
  model::LoadedModel loaded;
  ModelInfo info;
  ComposerOptions options;
  std::unique_ptr<model::FastDecoder> fast;  // null: the torch decoder, or a model it does not cover
  bool first_beats_loaded = false;
  std::vector<FirstBeat> first_beats;        // of the JSB training chorales, for --key

  // --key without a primer: the first beat (4 steps) of a JSB training chorale in the requested
  // mode, chosen by the seed and transposed so that its key's tonic is the requested one. Empty
  // when the JSB data is not installed (the candidates and the transposition still apply).
  std::vector<int32_t> key_primer(const music::KeyGuess& key, uint64_t seed) {
    if (!first_beats_loaded) {
      const std::string path = options.jsb_path.empty() ? runtime::installed_jsb_path() : options.jsb_path;
      if (io::is_regular_file(path)) {
        for (const music::ChoraleGrid& g : data::load_jsb(path).train) {
          if (g.steps() < 4) continue;
          FirstBeat first{g, music::guess_key(g)};
          first.beat.pitches.resize(4);
          if (first.beat.knows_onsets()) first.beat.onsets.resize(4);
          first_beats.push_back(std::move(first));
        }
      }
      first_beats_loaded = true;  // after a good load: a damaged file fails every --key, not just the first
    }
    std::vector<const FirstBeat*> in_mode;
    for (const FirstBeat& f : first_beats) {
      if (f.key.minor == key.minor) in_mode.push_back(&f);
    }
    if (in_mode.empty()) return {};
    const FirstBeat& source = *in_mode[static_cast<size_t>(seed % in_mode.size())];
    music::ChoraleGrid chosen = source.beat;
    int shift = ((key.tonic - source.key.tonic) % 12 + 12) % 12;
    if (shift > 5) shift -= 12;  // the nearer way, -6 .. 5
    for (music::GridStep& step : chosen.pitches) {
      for (int8_t& p : step) {
        if (p != music::kSilent) p = static_cast<int8_t>(std::clamp(p + shift, ChoraleTokens::kLowestPitch, ChoraleTokens::kHighestPitch));
      }
    }
    std::vector<int32_t> tokens = data::encode_grid(chosen, info.vocab);
    if (!tokens.empty() && tokens.back() == ChoraleTokens::kEos) tokens.pop_back();
    return tokens;
  }
};

Composer::Composer(const std::string& model, const ComposerOptions& options) : state_(std::make_unique<State>()) {
  const std::string path = runtime::resolve_model(model, "jsb-default");
  state_->loaded = model::load_model(path);
  const model::ModelSpec& spec = state_->loaded.spec;
  const std::string shown = model.empty() ? std::string("jsb-default") : model;
  if (spec.kind == model::ModelKind::kChoraleInfill) {
    throw InputError(Input::kModel, shown + " is a conditioning model: it harmonizes and infills (bachgen harmonize, bachgen infill) "
                                            "but does not compose from left to right");
  }
  const tokenize::VocabId vocab = tokenize::parse_vocab(spec.vocab);
  if (!tokenize::is_chorale_vocab(vocab)) {
    throw InputError(Input::kModel, shown + " is a " + spec.vocab + " model: the composer writes four-part chorales (satb16 or satb16-onset)");
  }
  state_->options = options;
  state_->info = {path, spec.kind, vocab, model::spec_shape(spec), state_->loaded.model->parameter_count()};
  if (options.decoder == Decoder::kFast && options.use_cache) {
    torch::InferenceMode inference;
    state_->loaded.model->eval();
    state_->fast = model::make_fast_decoder(*state_->loaded.model, options.weights);
  }
}

Composer::~Composer() = default;
Composer::Composer(Composer&&) noexcept = default;
Composer& Composer::operator=(Composer&&) noexcept = default;

const ModelInfo& Composer::info() const { return state_->info; }

std::vector<Composition> Composer::compose(const ComposeOptions& o, const music::ChoraleGrid* primer_grid, ComposeStats* stats) {
  State& st = *state_;
  const tokenize::VocabId vocab = st.info.vocab;
  if (o.count < 1) throw InputError(Input::kOption, "the count must be at least 1");
  std::vector<int32_t> primer{ChoraleTokens::kBos};
  if (primer_grid != nullptr) {
    try {
      primer = data::encode_grid(*primer_grid, vocab);
    } catch (const std::invalid_argument& e) {
      throw InputError(Input::kPrimer, e.what());
    }
    if (!primer.empty() && primer.back() == ChoraleTokens::kEos) primer.pop_back();
    if (o.primer_steps > 0) {
      const size_t keep = 1 + 4 * static_cast<size_t>(o.primer_steps);
      if (primer.size() > keep) primer.resize(keep);
    }
  } else if (o.key) {
    const std::vector<int32_t> conditioned = st.key_primer(*o.key, o.seed);
    if (!conditioned.empty()) primer = conditioned;
  }
  const int64_t primer_steps = static_cast<int64_t>(primer.size() - 1) / 4;
  if (o.steps <= primer_steps) {
    throw InputError(Input::kLength, "the primer already has " + std::to_string(primer_steps) + " steps; ask for more than that");
  }
  GenerateOptions g;
  g.sampling = o.sampling;
  g.seed = o.seed;
  // The key's mode is had by drawing eight candidates per piece and keeping those in the mode
  // first; the kept ones are then transposed to the requested tonic.
  constexpr int kKeyCandidates = 8;
  g.count = o.key ? kKeyCandidates * o.count : o.count;
  g.use_cache = st.options.use_cache;
  g.fast_decoder = st.options.decoder == Decoder::kFast;
  g.decode_weights = st.options.weights;
  g.fast = st.fast.get();
  g.time_limit_seconds = o.time_limit_seconds;
  g.eos = ChoraleTokens::kEos;
  g.max_new_tokens = 4 * o.steps - static_cast<int64_t>(primer.size() - 1);
  ChoraleGrammar grammar;
  grammar.onset_vocab = vocab == tokenize::VocabId::kSatb16Onset;
  grammar.voice_leading = o.voice_leading == music::VoiceLeading::kStrict;
  grammar.allow_eos = !o.full_length;
  const std::shared_ptr<int64_t> fallbacks = grammar.fallbacks;
  g.constraint = grammar;
  GenerateStats gs;
  std::vector<std::vector<int32_t>> rows = generate_tokens(*st.loaded.model, primer, g, &gs);
  if (o.key) {
    std::vector<std::vector<int32_t>> matching, other;
    for (std::vector<int32_t>& row : rows) {
      (music::guess_key(decode_row(row, vocab)).minor == o.key->minor ? matching : other).push_back(std::move(row));
    }
    rows = std::move(matching);
    for (auto& row : other) rows.push_back(std::move(row));
    rows.resize(static_cast<size_t>(o.count));
  }
  std::vector<Composition> out;
  for (const std::vector<int32_t>& row : rows) {
    Composition c;
    c.chorale.grid = decode_row(row, vocab);
    c.chorale.tempo = o.tempo;
    if (o.key) {
      c.key_change = music::transpose_into_key(c.chorale.grid, *o.key);
      if (c.key_change->mode_matches) c.chorale.key = *o.key;
    }
    out.push_back(std::move(c));
  }
  if (stats != nullptr) {
    stats->new_tokens = gs.new_tokens;
    stats->seconds = gs.seconds;
    stats->voice_leading_fallbacks = *fallbacks;
    stats->decoder = gs.decoder;
  }
  return out;
}

}  // namespace bachgen::generate
