// Orderless ancestral sampling with the conditioning model.
#include "bachgen/generate/infill.h"
#include "bachgen/model/infill_order.h"

#include "bachgen/generate/errors.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "bachgen/data/token_dataset.h"
#include "bachgen/model/sequence_model.h"
#include "bachgen/music/voice_leading.h"
#include "bachgen/runtime/torch_runtime.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::generate {

namespace {

using music::kSilent;
using music::kVoices;
using tokenize::ChoraleTokens;
using tokenize::Satb16Vocab;

int32_t token_of(int8_t pitch) {
  return pitch == kSilent ? ChoraleTokens::kRest : Satb16Vocab::pitch_token(pitch);
}

int8_t pitch_of(int32_t token) {
  return token == ChoraleTokens::kRest ? kSilent : static_cast<int8_t>(token - ChoraleTokens::kFirstPitch + ChoraleTokens::kLowestPitch);
}

}  // namespace

std::vector<int64_t> gibbs_block_sizes(int64_t hidden, int64_t iterations, const InfillOptions& o) {
  if (!(o.block_min > 0 && o.block_min <= o.block_max && o.block_max <= 1 && o.anneal > 0)) {
    throw std::invalid_argument("infill: Gibbs needs 0 < alpha_min <= alpha_max <= 1 and eta > 0");
  }
  std::vector<int64_t> sizes;
  for (int64_t it = 0; it < iterations && hidden > 0; ++it) {
    const double alpha = std::max(o.block_min, o.block_max - (o.block_max - o.block_min) * static_cast<double>(it) /
                                                                 (o.anneal * static_cast<double>(iterations)));
    sizes.push_back(std::clamp<int64_t>(static_cast<int64_t>(std::llround(alpha * static_cast<double>(hidden))), 1, hidden));
  }
  return sizes;
}

double gibbs_temperature(const InfillOptions& o, int64_t iteration, int64_t iterations) {
  if (!(o.final_temperature > 0) || iterations <= 1) return o.sampling.temperature;
  const double share = static_cast<double>(std::clamp<int64_t>(iteration, 0, iterations - 1)) / static_cast<double>(iterations - 1);
  return o.sampling.temperature + (o.final_temperature - o.sampling.temperature) * share;
}

bool breaks_rules_between(const std::vector<music::GridStep>& known, size_t t, int v, int pitch) {
  const music::GridStep& now = known[t];
  // Crossing: above the voice over it, or below the voice under it.
  for (int u = v - 1; u >= 0; --u) {
    if (now[u] != kSilent) {
      if (pitch > now[u]) return true;
      break;
    }
  }
  for (int u = v + 1; u < kVoices; ++u) {
    if (now[u] != kSilent) {
      if (pitch < now[u]) return true;
      break;
    }
  }
  // Motion into t (from t - 1) and out of t (to t + 1).
  for (int side = 0; side < 2; ++side) {
    if ((side == 0 && t == 0) || (side == 1 && t + 1 >= known.size())) continue;
    const music::GridStep& other = known[side == 0 ? t - 1 : t + 1];
    const int own = other[v];
    if (own == kSilent) continue;
    if (std::abs(own - pitch) > 12) return true;
    for (int u = 0; u < kVoices; ++u) {
      if (u == v || now[u] == kSilent || other[u] == kSilent) continue;
      const int upper = std::min(u, v), lower = std::max(u, v);
      const int p_from = side == 0 ? (upper == v ? own : other[u]) : (upper == v ? pitch : now[u]);
      const int p_to = side == 0 ? (upper == v ? pitch : now[u]) : (upper == v ? own : other[u]);
      const int q_from = side == 0 ? (lower == v ? own : other[u]) : (lower == v ? pitch : now[u]);
      const int q_to = side == 0 ? (lower == v ? pitch : now[u]) : (lower == v ? own : other[u]);
      if (music::parallel_kind(p_from, p_to, q_from, q_to) != 0) return true;
    }
  }
  return false;
}

uint64_t infill_chain_seed(uint64_t seed, int64_t chain) {
  return chain == 0 ? seed : runtime::splitmix64_hash(seed ^ runtime::splitmix64_hash(static_cast<uint64_t>(chain)));
}

namespace {

// One chain of the sampler: the grid as it stands in it and its own generator.
struct Chain {
  std::vector<int32_t> tokens;
  std::vector<music::GridStep> known;  // kSilent also where hidden (for the rules)
  Rng rng;
  std::vector<size_t> pool;            // Gibbs: the drawn variables, shuffled for the blocks
  std::vector<float> log_prob;         // per token index: log p of the last draw (temperature 1)
  int64_t fallbacks = 0;
};

}  // namespace

std::vector<InfillCandidate> infill_candidates(model::SequenceModelImpl& model, const music::ChoraleGrid& grid,
                                               const std::vector<std::array<bool, kVoices>>& regenerate,
                                               const InfillOptions& options, InfillStats* stats) {
  if (model.kind() != model::ModelKind::kChoraleInfill) {
    throw std::invalid_argument("harmonize and infill need a conditioning model (kind chorale-infill), not a " + std::string(model::model_kind_name(model.kind())) +
                                " (bachgen train --preset jsb-harmonize makes one)");
  }
  if (regenerate.size() != grid.steps()) throw std::invalid_argument("infill: the regenerate mask must have one row per step");
  if (!options.pitch_classes.empty() && options.pitch_classes.size() != grid.steps()) {
    throw std::invalid_argument("infill: the pitch classes must have one row per step");
  }
  if (options.rhythm_steps < 1 || options.rhythm_phase < 0 || options.rhythm_bar < 0) {
    throw std::invalid_argument("infill: rhythm_steps must be at least 1, rhythm_phase and rhythm_bar not negative");
  }
  if (options.chains < 1 || options.chains > kMaxInfillChains) {
    throw std::invalid_argument("infill: chains must be 1 to " + std::to_string(kMaxInfillChains));
  }
  const auto start = std::chrono::steady_clock::now();
  const size_t steps = grid.steps();
  std::vector<music::GridStep> known = grid.pitches;  // kSilent also where hidden (for the rules)
  std::vector<int32_t> tokens(4 * steps);
  std::vector<size_t> order;  // hidden variables, as token indices
  for (size_t t = 0; t < steps; ++t) {
    for (int v = 0; v < kVoices; ++v) {
      const size_t i = 4 * t + static_cast<size_t>(v);
      if (regenerate[t][static_cast<size_t>(v)]) {
        order.push_back(i);
        tokens[i] = ChoraleTokens::kPad;
        known[t][static_cast<size_t>(v)] = kSilent;
      } else {
        const int8_t p = grid.pitches[t][static_cast<size_t>(v)];
        if (p != kSilent && (p < ChoraleTokens::kLowestPitch || p > ChoraleTokens::kHighestPitch)) {
          throw std::invalid_argument("step " + std::to_string(t) + " voice " + std::to_string(v) + ": pitch " + std::to_string(p) +
                                      " is outside the model's 36-81");
        }
        tokens[i] = token_of(p);
      }
    }
  }
  // The rhythm rule: a hidden variable off the grid follows the one before it in its voice: a
  // drawn one (the group's leader, drawn once for all of them) or a kept one (copied now).
  std::vector<size_t> free_vars;                                   // the leaders: what is drawn
  std::vector<std::vector<size_t>> followers(4 * steps);
  std::vector<int64_t> leader(4 * steps, -1);  // hidden variable -> its leader
  InfillStats st;
  for (const size_t i : order) {
    const size_t t = i / 4;
    int64_t position = options.rhythm_phase + static_cast<int64_t>(t);
    if (options.rhythm_bar > 0) position %= options.rhythm_bar;
    const bool off_grid = t > 0 && position % options.rhythm_steps != 0;
    if (!off_grid) {
      leader[i] = static_cast<int64_t>(i);
      free_vars.push_back(i);
      continue;
    }
    ++st.held;
    const size_t before = i - 4;
    if (leader[before] >= 0) {
      leader[i] = leader[before];
      followers[static_cast<size_t>(leader[i])].push_back(i);
    } else {  // kept before it: held from that note
      tokens[i] = tokens[before];
      known[t][i % 4] = known[t - 1][i % 4];
    }
  }
  // Pitch classes: a leader takes only what it and all its followers may.
  std::vector<uint16_t> classes;
  if (!options.pitch_classes.empty()) {
    classes.assign(4 * steps, kAnyPitch);
    for (const size_t i : order) {
      const int64_t l = leader[i];
      if (l < 0) continue;
      classes[static_cast<size_t>(l)] &= options.pitch_classes[i / 4][i % 4];
    }
  }
  const int64_t n = static_cast<int64_t>(free_vars.size());
  st.variables = static_cast<int64_t>(order.size());
  const int64_t chain_count = options.chains;
  std::vector<Chain> chains;
  chains.reserve(static_cast<size_t>(chain_count));
  for (int64_t c = 0; c < chain_count; ++c) {
    chains.push_back(Chain{tokens, known, Rng(infill_chain_seed(options.seed, c)), free_vars, std::vector<float>(4 * steps, 0.0f), 0});
  }
  torch::NoGradGuard no_grad;
  model.eval();
  const int64_t vocab = model.vocab_size();
  std::vector<uint8_t> range_mask(static_cast<size_t>(vocab)), rule_mask(static_cast<size_t>(vocab)), move_mask;
  SamplingOptions current = options.sampling;  // its temperature falls over Gibbs's iterations (final_temperature)
  const torch::Tensor offset = torch::full({chain_count}, 4 * options.step_offset, torch::kInt64);
  const torch::Tensor conditions = data::conditions_tensor({options.conditions}).repeat({chain_count, 1});  // (chains, 4)
  std::vector<int64_t> input_ids(static_cast<size_t>(chain_count) * 4 * steps);
  // One model run on every chain's grid as it stands; throws TimeLimitExceeded past the limit.
  auto run_model = [&]() {
    if (options.time_limit_seconds > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > options.time_limit_seconds) {
      throw TimeLimitExceeded(options.time_limit_seconds);
    }
    for (int64_t c = 0; c < chain_count; ++c) {
      std::copy(chains[static_cast<size_t>(c)].tokens.begin(), chains[static_cast<size_t>(c)].tokens.end(),
                input_ids.begin() + c * static_cast<int64_t>(4 * steps));
    }
    const torch::Tensor input = torch::tensor(input_ids, torch::kInt64).view({chain_count, -1});
    ++st.passes;
    runtime::CpuAutocast autocast(options.bf16);
    return model.forward(input, offset, conditions).to(torch::kFloat32).contiguous();  // (chains, 4S, V)
  };
  // The logits of chain c in a model run's output.
  auto chain_logits = [&](const torch::Tensor& logits, int64_t c) {
    return logits.data_ptr<float>() + static_cast<size_t>(c) * 4 * steps * static_cast<size_t>(vocab);
  };
  // Draws variable i of a chain from its row of logits, masked to its voice's range and (with
  // the rules on) to the pitches that break no rule against the chain's `known`; then it is
  // known. A leader's followers (they hold its pitch) are checked against the rules at their
  // own steps and take the drawn token with it. The pitch classes limit the range first; where
  // they leave nothing in the voice's range, the range alone.
  auto draw = [&](Chain& chain, const float* data, size_t i) {
    const size_t t = i / 4;
    const int v = static_cast<int>(i % 4);
    const uint16_t pcs = classes.empty() ? kAnyPitch : classes[i];
    std::fill(range_mask.begin(), range_mask.end(), 0);
    bool any_in_range = false;
    for (int pass = 0; pass < 2 && !any_in_range; ++pass) {
      const uint16_t limit = pass == 0 ? pcs : kAnyPitch;
      range_mask[static_cast<size_t>(ChoraleTokens::kRest)] = (limit & kRestBit) != 0;
      for (int p = music::kVoiceLowest[static_cast<size_t>(v)]; p <= music::kVoiceHighest[static_cast<size_t>(v)]; ++p) {
        const bool ok = (limit >> (p % 12)) & 1;
        range_mask[static_cast<size_t>(Satb16Vocab::pitch_token(p))] = ok;
        any_in_range = any_in_range || ok;
      }
    }
    const uint8_t* allowed = range_mask.data();
    if (options.voice_leading) {
      rule_mask = range_mask;
      bool any = false;
      for (int p = music::kVoiceLowest[static_cast<size_t>(v)]; p <= music::kVoiceHighest[static_cast<size_t>(v)]; ++p) {
        const size_t tok = static_cast<size_t>(Satb16Vocab::pitch_token(p));
        if (!rule_mask[tok]) continue;
        bool breaks = breaks_rules_between(chain.known, t, v, p);
        for (size_t k = 0; k < followers[i].size() && !breaks; ++k) breaks = breaks_rules_between(chain.known, followers[i][k] / 4, v, p);
        if (breaks) rule_mask[tok] = 0;
        any = any || rule_mask[tok];
      }
      if (any) {
        allowed = rule_mask.data();
      } else {
        ++chain.fallbacks;
      }
    }
    const float* row = data + i * static_cast<size_t>(vocab);
    int32_t token = -1;
    // The hold split: hold the note before (at the hold temperature) or move (at the current one).
    const int8_t before = t > 0 ? chain.known[t - 1][static_cast<size_t>(v)] : kSilent;
    if (options.hold_temperature > 0 && before != kSilent && allowed[static_cast<size_t>(token_of(before))] != 0) {
      token = sample_hold_or_move(row, static_cast<size_t>(vocab), current, options.hold_temperature, token_of(before), chain.rng,
                                  allowed, move_mask);
    }
    if (token < 0) token = sample(row, static_cast<size_t>(vocab), current, chain.rng, allowed);
    // Its log-probability under the model (temperature 1, over the allowed tokens): the
    // candidate's model score (InfillCandidate::mean_log_prob).
    float top = -std::numeric_limits<float>::infinity();
    for (int64_t k = 0; k < vocab; ++k) {
      if (allowed[k] != 0) top = std::max(top, row[k]);
    }
    double sum = 0;
    for (int64_t k = 0; k < vocab; ++k) {
      if (allowed[k] != 0) sum += std::exp(static_cast<double>(row[k] - top));
    }
    chain.log_prob[i] = static_cast<float>(static_cast<double>(row[token] - top) - std::log(sum));
    chain.tokens[i] = token;
    chain.known[t][static_cast<size_t>(v)] = pitch_of(token);
    for (const size_t f : followers[i]) {
      chain.tokens[f] = token;
      chain.known[f / 4][f % 4] = pitch_of(token);
    }
  };
  if (options.sampler == InfillSampler::kGibbs) {
    // By default one iteration per step that has a variable to draw, one not held by the rhythm
    // rule (a short redraw in a long piece runs as few as its own steps; on the 8th grid, half
    // as many as there are 16ths).
    std::vector<uint8_t> drawn_at(steps, 0);
    for (const size_t i : free_vars) drawn_at[i / 4] = 1;
    const int64_t drawn_steps = std::count(drawn_at.begin(), drawn_at.end(), uint8_t{1});
    const int64_t iterations = options.iterations > 0 ? options.iterations : drawn_steps;
    const std::vector<int64_t> blocks = gibbs_block_sizes(n, iterations, options);
    for (size_t it = 0; it < blocks.size(); ++it) {
      const int64_t block = blocks[it];
      current.temperature = gibbs_temperature(options, static_cast<int64_t>(it), static_cast<int64_t>(blocks.size()));
      // A random block per chain: the first `block` of a partial Fisher-Yates shuffle of the
      // drawn ones (each hidden again with the variables that hold its pitch).
      for (Chain& chain : chains) {
        for (int64_t k = 0; k < block; ++k) {
          const size_t j = static_cast<size_t>(k) + static_cast<size_t>(chain.rng.below(static_cast<uint64_t>(n - k)));
          std::swap(chain.pool[static_cast<size_t>(k)], chain.pool[j]);
          const size_t i = chain.pool[static_cast<size_t>(k)];
          chain.tokens[i] = ChoraleTokens::kPad;
          chain.known[i / 4][i % 4] = kSilent;
          for (const size_t f : followers[i]) {
            chain.tokens[f] = ChoraleTokens::kPad;
            chain.known[f / 4][f % 4] = kSilent;
          }
        }
      }
      const torch::Tensor logits = run_model();
      for (int64_t c = 0; c < chain_count; ++c) {
        Chain& chain = chains[static_cast<size_t>(c)];
        const float* data = chain_logits(logits, c);
        for (int64_t k = 0; k < block; ++k) draw(chain, data, chain.pool[static_cast<size_t>(k)]);
      }
    }
  } else {
    // Each chain its own order; pass k of the model draws every chain's k-th share.
    std::vector<std::vector<std::vector<size_t>>> chunks;
    size_t passes = 0;
    for (Chain& chain : chains) {
      chunks.push_back(model::infill_schedule(free_vars, options.passes > 0 ? options.passes : static_cast<int64_t>(steps), chain.rng));
      passes = std::max(passes, chunks.back().size());
    }
    for (size_t pass = 0; pass < passes; ++pass) {
      const torch::Tensor logits = run_model();
      for (int64_t c = 0; c < chain_count; ++c) {
        const std::vector<std::vector<size_t>>& own = chunks[static_cast<size_t>(c)];
        if (pass >= own.size()) continue;
        const float* data = chain_logits(logits, c);
        for (const size_t i : own[pass]) draw(chains[static_cast<size_t>(c)], data, i);
      }
    }
  }
  std::vector<InfillCandidate> out;
  for (const Chain& chain : chains) {
    InfillCandidate candidate{grid, chain.fallbacks, 0.0};
    music::ChoraleGrid& g = candidate.grid;
    for (size_t t = 0; t < steps; ++t) {
      for (int v = 0; v < kVoices; ++v) {
        if (!regenerate[t][static_cast<size_t>(v)]) continue;
        g.pitches[t][static_cast<size_t>(v)] = pitch_of(chain.tokens[4 * t + static_cast<size_t>(v)]);
      }
    }
    if (g.knows_onsets()) {
      for (size_t t = 0; t < steps; ++t) {
        for (int v = 0; v < kVoices; ++v) {
          // Drawn notes start where the pitch changes; a kept note after a drawn one starts
          // there too (its flag may have said "held" from a pitch that is gone).
          const int8_t p = g.pitches[t][static_cast<size_t>(v)];
          const bool changed = p != kSilent && (t == 0 || g.pitches[t - 1][static_cast<size_t>(v)] != p);
          if (regenerate[t][static_cast<size_t>(v)]) {
            g.onsets[t][static_cast<size_t>(v)] = changed;
          } else if (changed) {
            g.onsets[t][static_cast<size_t>(v)] = true;
          }
        }
      }
    }
    double sum = 0;
    for (const size_t i : free_vars) sum += chain.log_prob[i];
    candidate.mean_log_prob = n > 0 ? sum / static_cast<double>(n) : 0.0;
    st.fallbacks += chain.fallbacks;
    out.push_back(std::move(candidate));
  }
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (stats) *stats = st;
  return out;
}

music::ChoraleGrid infill_grid(model::SequenceModelImpl& model, const music::ChoraleGrid& grid,
                               const std::vector<std::array<bool, kVoices>>& regenerate,
                               const InfillOptions& options, InfillStats* stats) {
  InfillOptions one = options;
  one.chains = 1;
  return std::move(infill_candidates(model, grid, regenerate, one, stats).front().grid);
}

}  // namespace bachgen::generate
