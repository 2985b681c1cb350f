// Learning-rate schedules for the trainer: warmup + cosine (the default), inverse square root
// (Noam), step decay, and reduce-on-plateau. `lr_at(step)` is a pure function of the step for
// the first three; plateau also keeps the validation history, and its state is saved in
// checkpoints. Steps count from 0.
#pragma once

#include <cstdint>
#include <string>

namespace bachgen::train {

enum class ScheduleKind { kCosine, kInverseSqrt, kStep, kPlateau };
ScheduleKind parse_schedule(const std::string& name);  // cosine | inverse-sqrt | step | plateau
const char* schedule_name(ScheduleKind kind);

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::kCosine;
  double peak_lr = 1e-3;
  double min_lr = 1e-5;        // cosine: the floor it decays to
  int64_t warmup_steps = 100;  // linear from 0 to peak_lr over these steps (all kinds)
  int64_t total_steps = 1000;  // cosine: where it reaches min_lr
  int64_t step_size = 1000;    // step: multiply by gamma every step_size steps after warmup
  double gamma = 0.5;          // step and plateau: the factor
  int64_t patience = 3;        // plateau: evaluations without improvement before reducing
};

class LrSchedule {
 public:
  explicit LrSchedule(ScheduleOptions options = {});
  double lr_at(int64_t step) const;
  // Plateau: report a validation loss; returns true when the rate was just reduced.
  bool observe(double validation_loss);
  // Plateau state (for checkpoints): the best loss, evaluations since, and the current scale.
  double best() const { return best_; }
  int64_t bad_evaluations() const { return bad_; }
  double scale() const { return scale_; }
  void restore(double best, int64_t bad_evaluations, double scale);
  const ScheduleOptions& options() const { return options_; }

 private:
  ScheduleOptions options_;
  double best_;
  int64_t bad_ = 0;
  double scale_ = 1.0;
};

}  // namespace bachgen::train
