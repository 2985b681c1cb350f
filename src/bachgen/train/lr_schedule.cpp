// Learning-rate schedules.
#include "bachgen/train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace bachgen::train {

ScheduleKind parse_schedule(const std::string& name) {
  if (name == "cosine") return ScheduleKind::kCosine;
  if (name == "inverse-sqrt") return ScheduleKind::kInverseSqrt;
  if (name == "step") return ScheduleKind::kStep;
  if (name == "plateau") return ScheduleKind::kPlateau;
  throw std::invalid_argument("unknown schedule '" + name +
                              "' (cosine, inverse-sqrt, step or plateau)");
}

const char* schedule_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::kCosine: return "cosine";
    case ScheduleKind::kInverseSqrt: return "inverse-sqrt";
    case ScheduleKind::kStep: return "step";
    case ScheduleKind::kPlateau: return "plateau";
  }
  return "?";
}

LrSchedule::LrSchedule(ScheduleOptions options)
    : options_(options), best_(std::numeric_limits<double>::infinity()) {
  if (options_.peak_lr <= 0 || options_.warmup_steps < 0 || options_.total_steps <= 0 ||
      options_.step_size <= 0 || options_.gamma <= 0 || options_.gamma > 1) {
    throw std::invalid_argument("invalid learning-rate schedule settings");
  }
}

double LrSchedule::lr_at(int64_t step) const {
  const ScheduleOptions& o = options_;
  step = std::max<int64_t>(step, 0);
  // Linear warmup: step 0 already trains, at peak / (warmup + 1).
  if (step < o.warmup_steps) return o.peak_lr * static_cast<double>(step + 1) / (o.warmup_steps + 1);
  const double since = static_cast<double>(step - o.warmup_steps);
  switch (o.kind) {
    case ScheduleKind::kCosine: {
      const double span = std::max<double>(1.0, static_cast<double>(o.total_steps - o.warmup_steps));
      const double progress = std::min(1.0, since / span);
      return o.min_lr + 0.5 * (o.peak_lr - o.min_lr) * (1.0 + std::cos(M_PI * progress));
    }
    case ScheduleKind::kInverseSqrt:
      // Peak at the end of warmup, then proportional to 1 / sqrt(step) (Vaswani et al.).
      return o.peak_lr * std::sqrt(static_cast<double>(std::max<int64_t>(o.warmup_steps, 1)) /
                                   static_cast<double>(std::max<int64_t>(step, 1)));
    case ScheduleKind::kStep:
      return o.peak_lr * std::pow(o.gamma, std::floor(since / static_cast<double>(o.step_size)));
    case ScheduleKind::kPlateau:
      return o.peak_lr * scale_;
  }
  return o.peak_lr;
}

bool LrSchedule::observe(double loss) {
  if (options_.kind != ScheduleKind::kPlateau) return false;
  if (loss < best_) {
    best_ = loss;
    bad_ = 0;
    return false;
  }
  if (++bad_ > options_.patience) {
    scale_ *= options_.gamma;
    bad_ = 0;
    return true;
  }
  return false;
}

void LrSchedule::restore(double best, int64_t bad_evaluations, double scale) {
  best_ = best;
  bad_ = bad_evaluations;
  scale_ = scale;
}

}  // namespace bachgen::train
