// Temperature, top-k and top-p sampling.
#include "bachgen/generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "bachgen/runtime/splitmix.h"

namespace bachgen::generate {

std::vector<double> sampling_distribution(const float* logits, size_t count, const SamplingOptions& o,
                                          const uint8_t* allowed) {
  if (!(o.temperature >= 0)) throw std::invalid_argument("temperature must be 0 or more");
  if (!(o.top_p > 0 && o.top_p <= 1)) throw std::invalid_argument("top-p must be in (0, 1]");
  if (o.top_k < 0) throw std::invalid_argument("top-k must be 0 or more");
  // Candidates: allowed tokens with a finite logit, most probable first (ties: lower id).
  std::vector<int> order;
  order.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if ((allowed == nullptr || allowed[i] != 0) && std::isfinite(logits[i])) order.push_back(static_cast<int>(i));
  }
  if (order.empty()) throw std::invalid_argument("no token is allowed at this position");
  std::stable_sort(order.begin(), order.end(), [logits](int a, int b) { return logits[a] > logits[b]; });
  std::vector<double> p(count, 0.0);
  if (o.temperature == 0) {
    p[static_cast<size_t>(order.front())] = 1.0;
    return p;
  }
  if (o.top_k > 0 && order.size() > static_cast<size_t>(o.top_k)) order.resize(static_cast<size_t>(o.top_k));
  // Softmax over the kept candidates (the first is the largest logit).
  const double top = static_cast<double>(logits[order.front()]) / o.temperature;
  std::vector<double> weights(order.size());
  for (size_t j = 0; j < order.size(); ++j) {
    weights[j] = std::exp(static_cast<double>(logits[order[j]]) / o.temperature - top);
  }
  double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (o.top_p < 1) {
    double cumulative = 0;
    size_t keep = 0;
    while (keep < weights.size()) {
      cumulative += weights[keep++] / total;
      // A small tolerance, so that p = 0.7 keeps {0.4, 0.3} despite rounding.
      if (cumulative >= o.top_p - 1e-12) break;
    }
    weights.resize(keep);
    total = std::accumulate(weights.begin(), weights.end(), 0.0);
  }
  for (size_t j = 0; j < weights.size(); ++j) p[static_cast<size_t>(order[j])] = weights[j] / total;
  return p;
}

int draw(const std::vector<double>& probabilities, Rng& rng) {
  const double u = rng.uniform();
  double cumulative = 0;
  int last = -1;
  for (size_t i = 0; i < probabilities.size(); ++i) {
    if (probabilities[i] <= 0) continue;
    cumulative += probabilities[i];
    last = static_cast<int>(i);
    if (u < cumulative) return last;
  }
  if (last < 0) throw std::invalid_argument("an empty distribution");
  return last;  // u fell in the rounding gap at the top
}

int sample(const float* logits, size_t count, const SamplingOptions& options, Rng& rng, const uint8_t* allowed) {
  return draw(sampling_distribution(logits, count, options, allowed), rng);
}

int sample_hold_or_move(const float* logits, size_t count, const SamplingOptions& options, double hold_temperature, int hold,
                        Rng& rng, const uint8_t* allowed, std::vector<uint8_t>& scratch) {
  if (hold < 0 || static_cast<size_t>(hold) >= count) throw std::invalid_argument("the held token is outside the vocabulary");
  SamplingOptions at_hold = options;
  at_hold.temperature = hold_temperature;
  const double p_hold = sampling_distribution(logits, count, at_hold, allowed)[static_cast<size_t>(hold)];
  if (allowed != nullptr) {
    scratch.assign(allowed, allowed + count);
  } else {
    scratch.assign(count, 1);
  }
  scratch[static_cast<size_t>(hold)] = 0;
  bool can_move = false;
  for (size_t i = 0; i < count && !can_move; ++i) can_move = scratch[i] != 0 && std::isfinite(logits[i]);
  if (!can_move || rng.uniform() < p_hold) return hold;
  return sample(logits, count, options, rng, scratch.data());
}

}  // namespace bachgen::generate
