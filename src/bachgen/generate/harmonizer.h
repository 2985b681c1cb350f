// The library's harmonizer: the conditioning model (model/chorale_infill.h) loaded once,
// drawing alto, tenor and bass under a melody, or redrawing chosen voices in chosen bars of a
// chorale while keeping everything else exactly (generate/infill.h), in memory. The CLI
// (commands/harmonize_command) and each studio worker hold one. A Harmonizer is used by one
// thread at a time: give each thread its own. Torch-free header; docs/generation.md#harmonize.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bachgen/generate/composer.h"
#include "bachgen/generate/errors.h"
#include "bachgen/generate/infill.h"
#include "bachgen/generate/sampler.h"
#include "bachgen/music/chorale.h"
#include "bachgen/music/melody.h"
#include "bachgen/music/voice_leading.h"
#include "bachgen/runtime/cpu_features.h"

namespace bachgen::generate {

// The harmonizer's defaults, chosen by measurement on JSB test sopranos against Bach's figures
// (docs/generation.md#the-sampler-generateinfillh): annealed Gibbs (20 sopranos, jsb-infill),
// starting at temperature 1 and cooling to kDefaultHarmonizeFinalTemperature (below).
inline constexpr InfillSampler kDefaultHarmonizeSampler = InfillSampler::kGibbs;
inline constexpr double kDefaultHarmonizeTemperature = 1.0;
// Two rules of the sampler, on by default (measured there too): the lower voices start notes on
// the 8th grid (InfillOptions::rhythm_steps 2), and a melody that ends on a note of its key's
// tonic triad ends on that triad with the tonic in the bass.
inline constexpr int64_t kDefaultHarmonizeRhythmSteps = 2;
// Gibbs's temperature falls from the sampling temperature to this over the iterations, and
// whether a voice holds or moves is drawn at the hold temperature (InfillOptions); chosen on all
// 77 JSB test sopranos with jsb-harmonize (docs/generation.md#the-harmonizer-of-issue-19-jsb-harmonize).
inline constexpr double kDefaultHarmonizeFinalTemperature = 0.5;
inline constexpr double kDefaultHarmonizeHoldTemperature = 1.0;
inline constexpr bool kDefaultTonicCadence = true;

// The critic (`--candidates N`): N harmonizations are drawn side by side (infill_candidates)
// and one is kept. kConsensus keeps the one that agrees most with the others, beat by beat
// (music::agreement_with: the bass's pitch class and the chord on each quarter beat, summed
// over the others; a minimum-Bayes-risk choice, the per-beat consensus of the model's
// samples), ties going to the higher model score; kModel keeps the one the model itself scores
// best (InfillCandidate::mean_log_prob). docs/generation.md#the-critic.
enum class Critic { kConsensus, kModel };
// "consensus" | "model"; std::invalid_argument otherwise.
Critic parse_critic(const std::string& name);
const char* critic_name(Critic critic);
inline constexpr int64_t kDefaultHarmonizeCandidates = 1;
inline constexpr Critic kDefaultCritic = Critic::kConsensus;

struct HarmonizeOptions {
  SamplingOptions sampling{kDefaultHarmonizeTemperature};
  uint64_t seed = 1;
  InfillSampler sampler = kDefaultHarmonizeSampler;  // generate/infill.h
  int64_t passes = 0;           // ancestral: model runs; 0 = one per 16th step
  int64_t iterations = 0;       // Gibbs: model runs; 0 = one per step with a note to draw (per 8th
                                // with the rhythm rule on 8ths)
  double final_temperature = kDefaultHarmonizeFinalTemperature;  // Gibbs; 0 = the temperature throughout
  double hold_temperature = kDefaultHarmonizeHoldTemperature;    // 0 = no hold split
  // The model's runs: auto = bf16 autocast where the CPU computes bf16 natively (AVX512-BF16 or
  // AMX), fp32 elsewhere; fp32; bf16. fp16 is refused (no CPU fp16).
  runtime::Precision precision = runtime::Precision::kAuto;
  music::VoiceLeading voice_leading = music::VoiceLeading::kStrict;
  // Drawn voices start notes only every `rhythm_steps` 16ths from the bar line (2: 8ths; 1:
  // every 16th). The melody is kept as it is.
  int64_t rhythm_steps = kDefaultHarmonizeRhythmSteps;
  // harmonize: where the melody's last note belongs to its key's tonic triad (the key its
  // MusicXML names, else the one its notes suggest), the final chord is that triad: the bass on
  // the tonic, alto and tenor on the triad's notes (the third the melody's, or the key's).
  bool tonic_cadence = kDefaultTonicCadence;
  // A harmonizer with conditions (jsb-harmonize) is always told the meter and where the piece
  // ends; and, when this is on, the key: the melody file's (as the tonic cadence takes it) or
  // the one its notes suggest; for redraw, the key of the whole chorale as it stands.
  bool tell_key = true;
  // harmonize: the melody's key as the user names it (`--key`): told to the model and taken by
  // the tonic cadence, whatever the file says or the notes suggest. Its mode counts; the tonic
  // moves with the melody where --transpose auto moves it into another key.
  std::optional<music::KeyGuess> key;
  // A melody outside the soprano's range: refused (false), or moved (true, `--transpose auto`):
  // by octaves when that fits (the result stays there), else into the nearest key that fits,
  // harmonized there and moved back into the melody's key (music::fitting_shift).
  bool transpose_auto = false;
  double tempo = 0;             // of the result; 0 = the input's, else 80
  size_t max_steps = 1024;      // the longest melody taken, in 16ths (64 bars of 4/4)
  double time_limit_seconds = 0;  // > 0: TimeLimitExceeded (errors.h) once it passes
  int64_t candidates = kDefaultHarmonizeCandidates;  // 1 to kMaxInfillChains: drawn, one kept by the critic
  Critic critic = kDefaultCritic;
};

// Which of the candidates the critic keeps (the first of equals); `scores`, when given, gets
// each one's score (consensus: its mean agreement with the others, 0-1, plus a thousandth of
// its model score to break ties; model: its mean log-probability). Throws
// std::invalid_argument for no candidates.
size_t pick_candidate(const std::vector<InfillCandidate>& candidates, Critic critic, std::vector<double>* scores = nullptr);

// What to redraw: bars first..last (1-based, inclusive, in the chorale's meter; last may be
// past the end for "to the end") of the voices marked (S, A, T, B).
struct Selection {
  int64_t first_bar = 1, last_bar = 1;
  std::array<bool, 4> voices{false, true, true, true};
};

// What a harmonizer with conditions is told (InfillOptions::conditions), counted as the model
// counts steps: a grid of `steps` whose first step lies `bar_position` 16ths into its bar of
// `steps_per_bar` (16 or 12; other meters are unknown), and which the model sees from its step
// `step_offset` on; `key` null = unknown.
tokenize::PieceConditions harmonizer_conditions(int64_t steps, int64_t step_offset, int64_t bar_position, int64_t steps_per_bar,
                                                const music::KeyGuess* key);

struct HarmonizeStats {
  int64_t variables = 0;        // drawn
  int64_t held = 0;             // of them, held by the rhythm rule
  bool cadence = false;         // the final chord was held to the tonic triad
  int64_t fallbacks = 0;        // variables where every pitch broke a rule (drawn from the range)
  double seconds = 0;
  int melody_moved = 0;         // --transpose auto: semitones the melody was moved (0 = as given)
  bool moved_back = false;      // ... and the result moved back by as much (not by octaves)
  std::string key;              // harmonize: the key told and used for the cadence ("A major"), as
                                // the melody is (before a move back); redraw: the chorale's
  const char* key_from = "";    // harmonize: "--key", "the melody file" or "the melody's notes"
  bool bf16 = false;            // the model ran under bf16 autocast
  int64_t candidates = 1;       // drawn (HarmonizeOptions::candidates)
  int64_t chosen = 0;           // the one the critic kept, from 0
  double mean_log_prob = 0;     // the kept one's model score (InfillCandidate::mean_log_prob)
};

class Harmonizer {
 public:
  // A model file or a bundled model's name (empty = the bundled jsb-harmonize). Throws InputError(kModel) for
  // a model that is not a conditioning model.
  explicit Harmonizer(const std::string& model);
  ~Harmonizer();
  Harmonizer(Harmonizer&&) noexcept;
  Harmonizer& operator=(Harmonizer&&) noexcept;

  const ModelInfo& info() const;

  // The melody as the soprano, exactly, in its meter and with its pickup. Throws InputError
  // (`melody_input`: kMelody or kNotes; the message leads with `melody_name` when it names
  // no place itself) for a melody out of the soprano's range, empty or too long.
  music::Chorale harmonize(const music::Melody& melody, const HarmonizeOptions& options, HarmonizeStats* stats = nullptr,
                           Input melody_input = Input::kMelody, const std::string& melody_name = "the melody");

  // The chorale with the selection drawn again. Throws InputError(kSelection) for bars past
  // its end, InputError(kChorale) for a pitch the model cannot hold.
  music::Chorale redraw(const music::Chorale& chorale, const Selection& selection, const HarmonizeOptions& options,
                        HarmonizeStats* stats = nullptr);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace bachgen::generate
