// The harmonizer: the conditioning model loaded once, harmonizing and redrawing in memory.
#include "bachgen/generate/harmonizer.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

#include "bachgen/generate/errors.h"
#include "bachgen/generate/infill.h"
#include "bachgen/model/model_file.h"
#include "bachgen/music/chorale_figures.h"
#include "bachgen/runtime/bundled_models.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::generate {

tokenize::PieceConditions harmonizer_conditions(int64_t steps, int64_t step_offset, int64_t bar_position, int64_t steps_per_bar,
                                                const music::KeyGuess* key) {
  tokenize::PieceConditions c;
  if (steps_per_bar == 16 || steps_per_bar == 12) {
    c.steps_per_bar = static_cast<int>(steps_per_bar);
    c.bar_phase = static_cast<int>(((bar_position - step_offset) % steps_per_bar + steps_per_bar) % steps_per_bar);
  }
  c.steps = static_cast<int>(step_offset + steps);
  if (key != nullptr) c.key = tokenize::key_condition(*key);
  return c;
}

Critic parse_critic(const std::string& name) {
  if (name == "consensus") return Critic::kConsensus;
  if (name == "model") return Critic::kModel;
  throw std::invalid_argument("'" + name + "' is not a critic (consensus or model)");
}

const char* critic_name(Critic critic) { return critic == Critic::kModel ? "model" : "consensus"; }

size_t pick_candidate(const std::vector<InfillCandidate>& candidates, Critic critic, std::vector<double>* scores) {
  if (candidates.empty()) throw std::invalid_argument("the critic needs at least one candidate");
  std::vector<double> score(candidates.size(), 0.0);
  for (size_t c = 0; c < candidates.size(); ++c) {
    if (critic == Critic::kModel) {
      score[c] = candidates[c].mean_log_prob;
      continue;
    }
    double agree = 0;
    for (size_t d = 0; d < candidates.size(); ++d) {
      if (d == c) continue;
      const music::Agreement a = music::agreement_with(candidates[c].grid, candidates[d].grid);
      const int64_t beats = a.bass_beats + a.chord_beats;
      agree += beats > 0 ? static_cast<double>(a.same_bass + a.same_chord) / static_cast<double>(beats) : 1.0;
    }
    if (candidates.size() > 1) agree /= static_cast<double>(candidates.size() - 1);
    score[c] = agree + 1e-3 * candidates[c].mean_log_prob;
  }
  const size_t best = static_cast<size_t>(std::max_element(score.begin(), score.end()) - score.begin());
  if (scores != nullptr) *scores = std::move(score);
  return best;
}

struct Harmonizer::State {
  model::LoadedModel loaded;
  ModelInfo info;
  runtime::CpuInfo cpu = runtime::detect_cpu();

  music::ChoraleGrid draw(const music::ChoraleGrid& grid, const std::vector<std::array<bool, music::kVoices>>& regenerate,
                          const HarmonizeOptions& o, int64_t step_offset, int64_t bar_position, int64_t steps_per_bar,
                          const music::KeyGuess& key, HarmonizeStats* stats,
                          std::vector<std::array<uint16_t, music::kVoices>> pitch_classes = {}) {
    InfillOptions io;
    io.sampling = o.sampling;
    io.seed = o.seed;
    io.sampler = o.sampler;
    io.passes = o.passes;
    io.iterations = o.iterations;
    io.final_temperature = o.final_temperature;
    io.hold_temperature = o.hold_temperature;
    try {
      io.bf16 = runtime::resolve_precision(o.precision, cpu) == runtime::Precision::kBf16;
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument("precision fp16: the harmonizer runs on the CPU (auto, fp32 or bf16)");
    }
    io.voice_leading = o.voice_leading == music::VoiceLeading::kStrict;
    io.step_offset = step_offset;
    io.time_limit_seconds = o.time_limit_seconds;
    io.rhythm_steps = o.rhythm_steps;
    io.rhythm_phase = bar_position;
    io.rhythm_bar = steps_per_bar;
    io.conditions = harmonizer_conditions(static_cast<int64_t>(grid.steps()), step_offset, bar_position, steps_per_bar,
                                          o.tell_key ? &key : nullptr);
    io.pitch_classes = std::move(pitch_classes);
    if (o.candidates < 1 || o.candidates > kMaxInfillChains) {
      throw std::invalid_argument("candidates must be 1 to " + std::to_string(kMaxInfillChains));
    }
    io.chains = o.candidates;
    InfillStats st;
    std::vector<InfillCandidate> candidates = infill_candidates(*loaded.model, grid, regenerate, io, &st);
    const size_t chosen = pick_candidate(candidates, o.critic);
    if (stats != nullptr) {
      *stats = HarmonizeStats{};
      stats->variables = st.variables;
      stats->held = st.held;
      stats->fallbacks = candidates[chosen].fallbacks;
      stats->seconds = st.seconds;
      stats->bf16 = io.bf16;
      stats->candidates = o.candidates;
      stats->chosen = static_cast<int64_t>(chosen);
      stats->mean_log_prob = candidates[chosen].mean_log_prob;
    }
    return std::move(candidates[chosen].grid);
  }
};

namespace {

// The tonic cadence (HarmonizeOptions::tonic_cadence): pitch classes for the steps of the
// melody's last note, or none where that note is not in the key's tonic triad.
std::vector<std::array<uint16_t, music::kVoices>> tonic_cadence(const music::Melody& melody, const music::KeyGuess& key) {
  size_t last = melody.steps();
  while (last > 0 && melody.pitches[last - 1] == music::kSilent) --last;
  if (last == 0) return {};
  size_t first = last - 1;
  while (first > 0 && !melody.onsets[first] && melody.pitches[first - 1] == melody.pitches[first]) --first;
  const int tonic = key.tonic, fifth = (key.tonic + 7) % 12;
  const int sung = melody.pitches[last - 1] % 12;
  const int minor_third = (key.tonic + 3) % 12, major_third = (key.tonic + 4) % 12;
  if (sung != tonic && sung != fifth && sung != minor_third && sung != major_third) return {};
  // The third: the one the melody sings, else the key's own.
  const int third = sung == minor_third || sung == major_third ? sung : (key.minor ? minor_third : major_third);
  const uint16_t triad = static_cast<uint16_t>((1u << tonic) | (1u << fifth) | (1u << third));
  std::vector<std::array<uint16_t, music::kVoices>> classes(melody.steps(), {kAnyPitch, kAnyPitch, kAnyPitch, kAnyPitch});
  for (size_t t = first; t < last; ++t) classes[t] = {kAnyPitch, triad, triad, static_cast<uint16_t>(1u << tonic)};
  return classes;
}

}  // namespace

Harmonizer::Harmonizer(const std::string& model) : state_(std::make_unique<State>()) {
  const std::string path = runtime::resolve_model(model, runtime::kDefaultHarmonizer);
  state_->loaded = model::load_model(path, "satb16");
  const model::ModelSpec& spec = state_->loaded.spec;
  if (spec.kind != model::ModelKind::kChoraleInfill) {
    throw InputError(Input::kModel, (model.empty() ? std::string(runtime::kDefaultHarmonizer) : model) + " is a " +
                                        model::model_kind_name(spec.kind) +
                                        " (a next-token model); harmonizing needs a conditioning model (chorale-infill), e.g. the bundled " +
                                        runtime::kDefaultHarmonizer);
  }
  state_->info = {path, spec.kind, tokenize::VocabId::kSatb16, model::spec_shape(spec), state_->loaded.model->parameter_count(), false};
}

Harmonizer::~Harmonizer() = default;
Harmonizer::Harmonizer(Harmonizer&&) noexcept = default;
Harmonizer& Harmonizer::operator=(Harmonizer&&) noexcept = default;

const ModelInfo& Harmonizer::info() const { return state_->info; }

music::Chorale Harmonizer::harmonize(const music::Melody& given, const HarmonizeOptions& o, HarmonizeStats* stats, Input melody_input,
                                     const std::string& melody_name) {
  int shift = 0;
  bool by_octaves = true;
  if (o.transpose_auto) {
    try {
      shift = music::fitting_shift(given, music::kVoiceLowest[0], music::kVoiceHighest[0], &by_octaves);
    } catch (const std::invalid_argument& e) {
      throw InputError(melody_input, melody_name + ": " + e.what());
    }
  }
  const music::Melody melody = shift == 0 ? given : music::shifted_melody(given, shift);
  try {
    music::check_soprano(melody, melody_name, music::kVoiceLowest[0], music::kVoiceHighest[0], o.max_steps);
  } catch (const std::invalid_argument& e) {
    throw InputError(melody_input, e.what());
  }
  const music::ChoraleGrid grid = music::soprano_chorale(melody).grid;
  std::vector<std::array<bool, music::kVoices>> regenerate(melody.steps(), {false, true, true, true});
  music::Chorale out;
  out.steps_per_bar = melody.steps_per_bar;
  out.pickup_steps = melody.pickup_steps;
  out.tempo = o.tempo > 0 ? o.tempo : (melody.tempo_bpm > 0 ? melody.tempo_bpm : 80);
  // What the melody's source says stays as written: its key, its phrase ends, its spelling.
  out.key = melody.key;
  if (melody.fermatas.size() == melody.steps()) out.fermatas = melody.fermatas;
  if (melody.spellings.size() == melody.steps()) {
    out.spellings.assign(melody.steps(), {music::kUnspelled, music::kUnspelled, music::kUnspelled, music::kUnspelled});
    for (size_t t = 0; t < melody.steps(); ++t) out.spellings[t][0] = melody.spellings[t];
  }
  // The model's beat table is 4/4 from the first step; a pickup shifts the melody into place.
  const int64_t offset = melody.steps_per_bar == 16 ? out.lead_rests() : 0;
  // The key as its notes suggest; where the melody's file names a key and the melody moved
  // by octaves at most, that key's signature, with the mode the notes suggest when they
  // suggest that signature (a file's <key> often omits <mode>, which reads as major).
  const music::KeyGuess guessed = music::guess_key(grid);  // the soprano alone so far
  const bool file_key = shift % 12 == 0 && melody.key && melody.key->fifths != guessed.fifths;
  music::KeyGuess key = file_key ? *melody.key : guessed;
  if (o.key) {  // the user's, moved with the melody
    key = *o.key;
    if (shift % 12 != 0) key = music::transposed_key(key, shift);
  }
  std::vector<std::array<uint16_t, music::kVoices>> classes;
  if (o.tonic_cadence) classes = tonic_cadence(melody, key);
  const bool cadence = !classes.empty();
  out.grid = state_->draw(grid, regenerate, o, offset, out.lead_rests(), melody.steps_per_bar, key, stats, std::move(classes));
  if (shift != 0 && !by_octaves) {
    // Back into the melody's own key: every voice moves back by as much.
    for (music::GridStep& step : out.grid.pitches) {
      for (int8_t& p : step) {
        if (p != music::kSilent) p = static_cast<int8_t>(std::clamp(p - shift, 0, 127));
      }
    }
  }
  if (stats != nullptr) {
    stats->key_from = o.key ? "--key" : file_key ? "the melody file" : "the melody's notes";
    stats->key = (o.key ? *o.key : shift % 12 != 0 ? music::transposed_key(key, -shift) : key).name();  // in the melody's own key
    stats->cadence = cadence;
    stats->melody_moved = shift;
    stats->moved_back = shift != 0 && !by_octaves;
  }
  return out;
}

music::Chorale Harmonizer::redraw(const music::Chorale& chorale, const Selection& s, const HarmonizeOptions& o, HarmonizeStats* stats) {
  const int64_t bars = chorale.bars();
  if (s.first_bar < 1 || s.last_bar < s.first_bar) {
    throw InputError(Input::kSelection, "bars " + std::to_string(s.first_bar) + "-" + std::to_string(s.last_bar) + ": counted from 1, the last not before the first");
  }
  if (s.last_bar > bars && s.last_bar != std::numeric_limits<int64_t>::max()) {
    throw InputError(Input::kSelection, "the chorale has " + std::to_string(bars) + " bar(s)");
  }
  for (const music::GridStep& step : chorale.grid.pitches) {
    for (int8_t p : step) {
      if (p != music::kSilent && (p < tokenize::ChoraleTokens::kLowestPitch || p > tokenize::ChoraleTokens::kHighestPitch)) {
        throw InputError(Input::kChorale, "pitch " + std::to_string(p) + " is outside the model's range " +
                                              std::to_string(tokenize::ChoraleTokens::kLowestPitch) + "-" +
                                              std::to_string(tokenize::ChoraleTokens::kHighestPitch));
      }
    }
  }
  // Bars are counted as written: the pickup's bar is bar 1, its lead rests before the grid.
  const int64_t rests = chorale.lead_rests();
  const int64_t steps = static_cast<int64_t>(chorale.grid.steps());
  const int64_t from = std::clamp<int64_t>((s.first_bar - 1) * chorale.steps_per_bar - rests, 0, steps);
  const int64_t to = s.last_bar >= bars ? steps : std::clamp<int64_t>(s.last_bar * chorale.steps_per_bar - rests, 0, steps);
  std::vector<std::array<bool, music::kVoices>> regenerate(chorale.grid.steps(), {false, false, false, false});
  for (int64_t t = from; t < to; ++t) regenerate[static_cast<size_t>(t)] = s.voices;
  music::Chorale out = chorale;
  if (o.tempo > 0) out.tempo = o.tempo;
  // The key of the whole chorale as it stands (every voice).
  const music::KeyGuess key = music::guess_key(chorale.grid);
  out.grid = state_->draw(chorale.grid, regenerate, o, chorale.steps_per_bar == 16 ? rests : 0, rests, chorale.steps_per_bar, key, stats);
  if (stats != nullptr) stats->key = key.name();
  return out;
}

}  // namespace bachgen::generate
