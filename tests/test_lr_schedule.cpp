// Learning-rate schedules against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "bachgen/train/lr_schedule.h"

namespace bachgen::train {
namespace {

TEST(LrSchedule, WarmupThenCosine) {
  ScheduleOptions o;
  o.peak_lr = 1e-3;
  o.min_lr = 1e-4;
  o.warmup_steps = 4;
  o.total_steps = 104;
  const LrSchedule s(o);
  EXPECT_DOUBLE_EQ(s.lr_at(0), 1e-3 * 1 / 5);
  EXPECT_DOUBLE_EQ(s.lr_at(3), 1e-3 * 4 / 5);
  EXPECT_DOUBLE_EQ(s.lr_at(4), 1e-3);                          // the peak
  EXPECT_DOUBLE_EQ(s.lr_at(54), 1e-4 + 0.5 * 9e-4);            // halfway: the mean of both
  EXPECT_DOUBLE_EQ(s.lr_at(104), 1e-4);                        // the floor
  EXPECT_DOUBLE_EQ(s.lr_at(500), 1e-4);                        // and it stays
  EXPECT_NEAR(s.lr_at(29), 1e-4 + 0.5 * 9e-4 * (1 + std::cos(M_PI * 0.25)), 1e-15);
}

TEST(LrSchedule, InverseSqrtStepAndPlateau) {
  ScheduleOptions o;
  o.kind = parse_schedule("inverse-sqrt");
  o.peak_lr = 2e-3;
  o.warmup_steps = 100;
  const LrSchedule noam(o);
  EXPECT_DOUBLE_EQ(noam.lr_at(100), 2e-3);
  EXPECT_DOUBLE_EQ(noam.lr_at(400), 1e-3);  // 4x the steps, half the rate
  EXPECT_DOUBLE_EQ(noam.lr_at(49), 2e-3 * 50 / 101);

  o.kind = parse_schedule("step");
  o.step_size = 10;
  o.gamma = 0.5;
  const LrSchedule step(o);
  EXPECT_DOUBLE_EQ(step.lr_at(109), 2e-3);
  EXPECT_DOUBLE_EQ(step.lr_at(110), 1e-3);
  EXPECT_DOUBLE_EQ(step.lr_at(121), 5e-4);

  o.kind = parse_schedule("plateau");
  o.warmup_steps = 0;
  o.patience = 2;
  o.gamma = 0.1;
  LrSchedule plateau(o);
  EXPECT_FALSE(plateau.observe(1.0));
  EXPECT_FALSE(plateau.observe(0.9));
  EXPECT_FALSE(plateau.observe(0.95));  // 1 bad
  EXPECT_FALSE(plateau.observe(0.91));  // 2 bad
  EXPECT_TRUE(plateau.observe(0.92));   // 3 > patience: reduce
  EXPECT_DOUBLE_EQ(plateau.lr_at(1000), 2e-4);
  LrSchedule resumed(o);
  resumed.restore(plateau.best(), plateau.bad_evaluations(), plateau.scale());
  EXPECT_DOUBLE_EQ(resumed.lr_at(7), plateau.lr_at(7));
  EXPECT_THROW(parse_schedule("linear"), std::invalid_argument);
  o.gamma = 2;
  EXPECT_THROW(LrSchedule bad(o), std::invalid_argument);
}

}  // namespace
}  // namespace bachgen::train
