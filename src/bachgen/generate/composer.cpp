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
#include "bachgen/music/chorale_figures.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/runtime/bundled_models.h"
#include "bachgen/runtime/splitmix.h"
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
  const std::string path = runtime::resolve_model(model, runtime::kDefaultComposer);
  state_->loaded = model::load_model(path);
  const model::ModelSpec& spec = state_->loaded.spec;
  const std::string shown = model.empty() ? std::string(runtime::kDefaultComposer) : model;
  if (spec.kind == model::ModelKind::kChoraleInfill) {
    throw InputError(Input::kModel, shown + " is a conditioning model: it harmonizes and infills (bachgen harmonize, bachgen infill) "
                                            "but does not compose from left to right");
  }
  const tokenize::VocabId vocab = tokenize::parse_vocab(spec.vocab);
  if (!tokenize::is_chorale_vocab(vocab)) {
    throw InputError(Input::kModel, shown + " is a " + spec.vocab + " model: the composer writes four-part chorales (satb16 or satb16-onset)");
  }
  state_->options = options;
  state_->info = {path, spec.kind, vocab, model::spec_shape(spec), state_->loaded.model->parameter_count(),
                  spec.kind == model::ModelKind::kMusicTransformer && spec.transformer.conditions};
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

bool Composer::conditioned() const { return state_->info.conditions; }

namespace {

// Bach's share of chorales that open with a quarter pickup, by meter (the JSB pieces whose
// MusicXML twin gives a meter, all splits: 4/4 182 of 257, 3/4 12 of 29; docs/generation.md).
int auto_pickup(int steps_per_bar, uint64_t seed) {
  runtime::SplitMix64 rng{seed * 0x9E3779B97F4A7C15ull + 0x5851F42D4C957F2Dull};
  const double share = steps_per_bar == 12 ? 12.0 / 29.0 : 182.0 / 257.0;
  return rng.uniform() < share ? 4 : 0;
}

}  // namespace

std::vector<Composition> Composer::compose(const ComposeOptions& o, const music::ChoraleGrid* primer_grid, ComposeStats* stats) {
  State& st = *state_;
  const tokenize::VocabId vocab = st.info.vocab;
  if (o.count < 1) throw InputError(Input::kOption, "the count must be at least 1");
  if (o.steps_per_bar != 16 && o.steps_per_bar != 12) throw InputError(Input::kOption, "the meter is 4/4 or 3/4");
  if (o.pickup_steps >= o.steps_per_bar) throw InputError(Input::kOption, "the pickup must be shorter than a bar");
  const bool conditioned = st.info.conditions;
  // The meter and pickup; a composer with conditions is told them, and the length in bars.
  // Composers without conditions start on a downbeat (their EOS falls on bar lines counted from
  // step 0); with a primer the pickup is the one asked for, else none.
  const int pickup = !conditioned               ? 0
                     : primer_grid != nullptr   ? std::max(0, o.pickup_steps)
                     : o.pickup_steps >= 0      ? o.pickup_steps
                                                : auto_pickup(o.steps_per_bar, o.seed);
  int64_t length = o.steps;
  if (o.bars > 0) length = pickup > 0 ? (o.bars - 1) * o.steps_per_bar + pickup : o.bars * o.steps_per_bar;
  std::optional<tokenize::PieceConditions> conditions;
  if (conditioned) {
    tokenize::PieceConditions c;
    c.steps_per_bar = o.steps_per_bar;
    c.bar_phase = (o.steps_per_bar - pickup) % o.steps_per_bar;
    c.steps = static_cast<int>(length);
    if (o.key) c.key = tokenize::key_condition(*o.key);
    conditions = c;
  }
  const bool candidates = o.key && !conditioned;  // the older composers' way to a key
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
  } else if (candidates) {
    const std::vector<int32_t> key_beat = st.key_primer(*o.key, o.seed);
    if (!key_beat.empty()) primer = key_beat;
  }
  const int64_t primer_steps = static_cast<int64_t>(primer.size() - 1) / 4;
  if (length <= primer_steps) {
    throw InputError(Input::kLength, "the primer already has " + std::to_string(primer_steps) + " steps; ask for more than that");
  }
  GenerateOptions g;
  g.sampling = o.sampling;
  g.seed = o.seed;
  // The key's mode is had by drawing eight candidates per piece and keeping those in the mode
  // first; the kept ones are then transposed to the requested tonic.
  constexpr int kKeyCandidates = 8;
  const int per_piece = conditioned ? (o.candidates > 0 ? o.candidates : o.key ? 16 : 4) : 1;
  if (o.candidates < 0 || o.candidates > 64) throw InputError(Input::kOption, "the candidates per piece are 0 (automatic) to 64");
  g.count = candidates ? kKeyCandidates * o.count : per_piece * o.count;
  g.conditions = conditions;
  g.use_cache = st.options.use_cache;
  g.fast_decoder = st.options.decoder == Decoder::kFast;
  g.decode_weights = st.options.weights;
  g.fast = st.fast.get();
  g.time_limit_seconds = o.time_limit_seconds;
  g.eos = ChoraleTokens::kEos;
  g.max_new_tokens = 4 * length - static_cast<int64_t>(primer.size() - 1);
  ChoraleGrammar grammar;
  grammar.onset_vocab = vocab == tokenize::VocabId::kSatb16Onset;
  grammar.voice_leading = o.voice_leading == music::VoiceLeading::kStrict;
  grammar.steps_per_bar = o.steps_per_bar;
  if (conditioned && o.key && primer_grid == nullptr) {
    // Told a key, a composer with conditions opens on its tonic triad: the key condition alone
    // sways the model little (docs/results.md), the notes it hears do.
    grammar.opening_tonic = o.key->tonic;
    grammar.opening_minor = o.key->minor;
  }
  // A composer that knows where the piece ends writes all of it.
  grammar.allow_eos = !o.full_length && !conditioned;
  const std::shared_ptr<int64_t> fallbacks = grammar.fallbacks;
  g.constraint = grammar;
  GenerateStats gs;
  const std::vector<std::vector<int32_t>> rows = generate_tokens(*st.loaded.model, primer, g, &gs);
  // Every row decoded and its key guessed once; the selection below picks rows by index.
  std::vector<music::ChoraleGrid> grids;
  std::vector<music::KeyGuess> heard;
  for (const std::vector<int32_t>& row : rows) {
    grids.push_back(decode_row(row, vocab));
    heard.push_back(music::guess_key(grids.back()));
  }
  std::vector<size_t> kept;
  if (candidates) {
    // Those in the key's mode first, then the others, in the order drawn.
    for (const bool want : {true, false}) {
      for (size_t i = 0; i < rows.size(); ++i) {
        if ((heard[i].minor == o.key->minor) == want) kept.push_back(i);
      }
    }
    kept.resize(static_cast<size_t>(o.count));
  } else {
    // Each piece's candidates are rows [r * per_piece, (r + 1) * per_piece): keep the best by
    // rule (composer.h), the first drawn on a tie.
    for (int r = 0; r < o.count; ++r) {
      size_t best = 0;
      int best_rank = -1;
      for (int j = 0; j < per_piece; ++j) {
        const size_t i = static_cast<size_t>(r * per_piece + j);
        int rank = per_piece > 1 && music::ends_on_tonic(grids[i], heard[i]) ? 1 : 0;
        if (per_piece > 1 && o.key && heard[i].minor == o.key->minor) rank += 2 + (heard[i].tonic == o.key->tonic ? 4 : 0);
        if (rank > best_rank) best = i, best_rank = rank;
      }
      kept.push_back(best);
    }
  }
  std::vector<Composition> out;
  for (const size_t i : kept) {
    Composition c;
    c.chorale.grid = std::move(grids[i]);
    c.chorale.tempo = o.tempo;
    c.chorale.steps_per_bar = o.steps_per_bar;
    c.chorale.pickup_steps = pickup;
    c.conditions = conditions;
    c.candidates = per_piece;
    if (o.key) {
      // A composer told the key keeps a piece that is in it as it is; anything else is moved
      // into the key.
      if (conditioned && heard[i].tonic == o.key->tonic && heard[i].minor == o.key->minor) {
        c.chorale.key = *o.key;
      } else {
        c.key_change = music::transpose_into_key(c.chorale.grid, *o.key);
        if (c.key_change->mode_matches) c.chorale.key = *o.key;
      }
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
