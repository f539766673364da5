// The timer's cost probe on this machine's real task-clock events, and the period it leads to.
#include "timer_cost.h"

#include <gtest/gtest.h>

#include "perf_attr.h"
#include "sampler_catalogue.h"

namespace tierscope::recorder::sampling {
namespace {

TEST(TimerPeriodForBudget, StretchesTheDefaultToFitTheCostInFourFifthsOfTheBudget) {
  // 60 us per sample in 80% of 3%: one sample per 2.5 ms.
  EXPECT_EQ(TimerPeriodForBudget(60000, 0.03), 2500000u);
  // Rounded up to a tenth of a millisecond: 61 us needs 2.5417 ms.
  EXPECT_EQ(TimerPeriodForBudget(61000, 0.03), 2600000u);
  EXPECT_EQ(TimerPeriodForBudget(300000, 0.03), 12500000u);
  EXPECT_EQ(TimerPeriodForBudget(60000, 0.10), kDefaultTimerPeriodNs);  // 750 us: under the floor
  EXPECT_EQ(TimerPeriodForBudget(5000000, 0.03), kLongestDefaultTimerPeriodNs);  // 208 ms: capped
}

TEST(TimerPeriodForBudget, CheapSamplesAFixedBudgetOrNoMeasurementKeepTheDefault) {
  EXPECT_EQ(TimerPeriodForBudget(2000, 0.03), kDefaultTimerPeriodNs);  // bare metal
  EXPECT_EQ(TimerPeriodForBudget(60000, 0), kDefaultTimerPeriodNs);    // --sample-budget 0
  EXPECT_EQ(TimerPeriodForBudget(0, 0.03), kDefaultTimerPeriodNs);     // not measured
}

TEST(TimerSampleCost, MeasuredOnThisThreadsRealTimer) {
  uint64_t cost = 0;
  std::string error;
  ASSERT_TRUE(MeasureTimerSampleCost(&cost, &error)) << error;
  // Whatever it measured, the period stays at least the default, and is one a person can read.
  const uint64_t period = TimerPeriodForBudget(cost, 0.03);
  EXPECT_GE(period, kDefaultTimerPeriodNs);
  EXPECT_EQ(period % 100000, 0u);
  std::printf("one timer sample costs %.1f us here: default period %.1f ms\n", cost / 1e3,
              period / 1e6);
}

TEST(TimerSampleCost, TheCatalogueUsesItUnlessAPeriodIsGiven) {
  SamplingOptions options;
  options.samplers = {SamplerChoice::kTimer};
  options.timer_sample_cost_ns = 60000;
  std::string error;
  auto sources = OpenableSources(
      options, [](const std::string&) {}, &error);
  ASSERT_EQ(sources.size(), 1u) << error;
  EXPECT_EQ(sources[0].events[0].attr.sample_period, 2500000u);
  ASSERT_EQ(sources[0].configs.size(), 1u);
  EXPECT_EQ(sources[0].configs[0].period(), 2500000u);
  EXPECT_EQ(sources[0].configs[0].sample_cost_ns(), 60000u);

  options.period = 1000000;  // --sample-period 1ms: the user's word
  sources = OpenableSources(
      options, [](const std::string&) {}, &error);
  ASSERT_EQ(sources.size(), 1u) << error;
  EXPECT_EQ(sources[0].configs[0].period(), 1000000u);

  options.period = 0;
  options.cpu_budget = 0;  // a fixed period: the default
  sources = OpenableSources(
      options, [](const std::string&) {}, &error);
  ASSERT_EQ(sources.size(), 1u) << error;
  EXPECT_EQ(sources[0].configs[0].period(), kDefaultTimerPeriodNs);
}

}  // namespace
}  // namespace tierscope::recorder::sampling
