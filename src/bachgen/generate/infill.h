// Infilling with the conditioning model (model/chorale_infill.h): the chosen variables (voice,
// 16th step) of a chorale grid are drawn again, everything else is kept exactly. Harmonizing a
// melody is the case "every step, voices A T B". Torch-free header; docs/generation.md#infill.
//
// The sampler is ancestral over a random order (Coconet's orderless NADE): the hidden
// variables are shuffled with the seed and drawn in `passes` rounds; each round runs the model
// once on the grid as it stands (drawn variables known, the rest hidden) and draws the next
// share of the order from their conditionals. One variable per round is exact sampling from
// the model for that order; fewer rounds are faster and draw far-apart variables together.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "bachgen/generate/sampler.h"
#include "bachgen/music/chorale_grid.h"
#include "bachgen/tokenize/conditions.h"

namespace bachgen::model {
class SequenceModelImpl;
}

namespace bachgen::generate {

// kAncestral: the orderless ancestral sampler above. kGibbs: Coconet's annealed blocked Gibbs
// sampling (Huang et al. 2017, after Yao et al. 2014): every hidden variable starts unknown;
// iteration n of N hides a random block of them again, a share
//   alpha_n = max(alpha_min, alpha_max - (alpha_max - alpha_min) * n / (eta * N))
// of all hidden variables (alpha_max 1, alpha_min 0.05, eta 0.75: from all of them down to 5 %
// over the first three quarters of the iterations), runs the model once on the grid with the
// block hidden and draws the block again from its conditionals given everything else. The
// voice-leading masks apply at every draw, against the notes before and after as they stand
// (docs/generation.md#the-sampler-generateinfillh).
enum class InfillSampler { kAncestral, kGibbs };
// "ancestral" | "gibbs"; std::invalid_argument otherwise.
inline InfillSampler parse_infill_sampler(const std::string& name) {
  if (name == "ancestral") return InfillSampler::kAncestral;
  if (name == "gibbs") return InfillSampler::kGibbs;
  throw std::invalid_argument("'" + name + "' is not a sampler (ancestral or gibbs)");
}
inline const char* infill_sampler_name(InfillSampler sampler) { return sampler == InfillSampler::kGibbs ? "gibbs" : "ancestral"; }

struct InfillOptions {
  SamplingOptions sampling;
  uint64_t seed = 1;
  InfillSampler sampler = InfillSampler::kAncestral;
  int64_t passes = 0;          // ancestral: model runs; 0 = one per grid step (at most one per variable)
  int64_t iterations = 0;      // Gibbs: model runs; 0 = one per step that has a variable to draw
                               // (held ones aside: with the rhythm rule on 8ths, one per 8th)
  double block_max = 1.0, block_min = 0.05, anneal = 0.75;  // Gibbs: alpha_max, alpha_min, eta
  // Gibbs: > 0: the temperature falls (or rises) linearly over the iterations, from
  // sampling.temperature at the first to this at the last (gibbs_temperature); 0 = constant.
  double final_temperature = 0;
  // > 0: the hold split. A drawn variable whose voice sounds a pitch at the step before (known
  // then, and allowed by the masks now) holds it with the probability the model gives it at this
  // temperature (over the allowed tokens); else it moves, to a pitch drawn at the sampling
  // temperature from the allowed ones but that. So a lower sampling temperature sharpens the
  // choice of pitch without making the voices hold longer. 0 = one draw over every allowed token.
  double hold_temperature = 0;
  bool bf16 = false;           // run the model under bf16 autocast (runtime/torch_runtime.h)
  bool voice_leading = true;   // mask pitches breaking the rules against the known neighbours
  int64_t step_offset = 0;     // where the grid's first step falls in a 4/4 bar (the model's beat)
  // What a model with conditions is told of the piece (unknown by default), for its steps as
  // the model counts them: grid step t is the model's step step_offset + t (so bar_phase and
  // steps count from step_offset before the grid). A model without conditions ignores them.
  tokenize::PieceConditions conditions;
  // The rhythm rule: drawn voices start notes only on the grid of `rhythm_steps` 16ths (2: the
  // 8th grid). A drawn variable off that grid holds the pitch of the variable before it in its
  // voice (drawn with it, or kept); the grid is counted from each bar line: step t lies
  // (rhythm_phase + t) mod rhythm_bar 16ths into its bar (rhythm_bar 0: no bars, from the first
  // step), and is on the grid where that is a multiple of rhythm_steps; the first step always
  // starts a note. 1 = every 16th (no rule).
  int64_t rhythm_steps = 1;
  int64_t rhythm_phase = 0;
  int64_t rhythm_bar = 0;
  // The pitch classes each drawn variable may take, per step and voice: bit pc (0 = C .. 11 =
  // B), bit 12 a rest; kAnyPitch = no limit. Empty = no limit anywhere; else one row per step.
  // Applied with the range and before the voice-leading rules (a fallback keeps it); a mask
  // that leaves no pitch of the voice's range (a rest alone included) falls back to the range.
  // A variable the rhythm rule holds from a kept note takes that note, whatever its mask.
  std::vector<std::array<uint16_t, music::kVoices>> pitch_classes;
  double time_limit_seconds = 0;  // > 0: throw TimeLimitExceeded (generate/errors.h) once it passes
  // Candidates drawn side by side (infill_candidates): independent chains of the sampler, each
  // with its own generator (chain 0 the seed's, so one chain draws what infill_grid draws), all
  // run by the model together in one batch. 1 to kMaxInfillChains.
  int64_t chains = 1;
};

inline constexpr int64_t kMaxInfillChains = 16;

inline constexpr uint16_t kAnyPitch = 0x1FFF;
inline constexpr uint16_t kRestBit = 0x1000;

struct InfillStats {
  int64_t variables = 0;   // drawn (with those the rhythm rule holds)
  int64_t held = 0;        // of them, held by the rhythm rule from the variable before
  int64_t passes = 0;      // model runs
  int64_t fallbacks = 0;   // variables where every pitch broke a rule: drawn from the range mask
  double seconds = 0;
};

// Which variables to draw: regenerate[t][v]. Kept variables (and their onset flags, when the
// grid has them) are copied unchanged; a drawn pitch starts a note where it differs from the
// step before. Pitches are drawn within music::kVoiceLowest..kVoiceHighest of their voice, or a
// rest. Throws std::invalid_argument when the sizes differ (the regenerate mask, the pitch
// classes), rhythm_steps < 1, or the model is not a conditioning model. Draws one chain (options.chains is
// ignored).
music::ChoraleGrid infill_grid(model::SequenceModelImpl& model, const music::ChoraleGrid& grid,
                               const std::vector<std::array<bool, music::kVoices>>& regenerate,
                               const InfillOptions& options, InfillStats* stats = nullptr);

// One chain's result (infill_candidates): the grid, the variables where every pitch broke a
// rule, and the model's mean log-probability (nats, temperature 1, over the allowed tokens) of
// each drawn variable at its last draw, given everything known then.
struct InfillCandidate {
  music::ChoraleGrid grid;
  int64_t fallbacks = 0;
  double mean_log_prob = 0;
};

// options.chains candidates of infill_grid, drawn together (one model run per pass or
// iteration for all of them). The stats count the model runs once and the fallbacks of all.
std::vector<InfillCandidate> infill_candidates(model::SequenceModelImpl& model, const music::ChoraleGrid& grid,
                                               const std::vector<std::array<bool, music::kVoices>>& regenerate,
                                               const InfillOptions& options, InfillStats* stats = nullptr);

// The seed of chain `chain` (from 0) of infill_candidates: chain 0 the seed itself, the others
// seeds hashed from it and their index (not the seed's own stream shifted by a few draws).
uint64_t infill_chain_seed(uint64_t seed, int64_t chain);

// Gibbs: how many of `hidden` variables iteration 0 .. iterations-1 draws again (the alpha_n
// above, rounded, at least 1). Throws std::invalid_argument for bad alpha or eta.
std::vector<int64_t> gibbs_block_sizes(int64_t hidden, int64_t iterations, const InfillOptions& options);

// The temperature of Gibbs iteration `iteration` (from 0) of `iterations`: sampling.temperature,
// moving linearly to final_temperature at the last when that is above 0.
double gibbs_temperature(const InfillOptions& options, int64_t iteration, int64_t iterations);

// With voice leading on: whether `pitch` for voice v at step t breaks a rule against the
// variables of `known` (kSilent where unknown or silent): crossing a neighbouring voice at
// step t, a parallel fifth or octave with any voice between t-1 and t or t and t+1, or a leap
// of more than an octave from the voice's own pitch at t-1 or t+1.
bool breaks_rules_between(const std::vector<music::GridStep>& known, size_t t, int v, int pitch);

}  // namespace bachgen::generate
