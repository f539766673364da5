#include "sampling_options.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace tierscope::recorder {
namespace {

TEST(SamplerSpec, ParsesSingleAndCombined) {
  std::vector<SamplerChoice> s;
  std::string error;
  ASSERT_TRUE(ParseSamplerSpec("timer+faults", &s, &error)) << error;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], SamplerChoice::kTimer);
  EXPECT_EQ(s[1], SamplerChoice::kFaults);
  EXPECT_EQ(SamplerSpecString(s), "timer+faults");
  ASSERT_TRUE(ParseSamplerSpec("none", &s, &error));
  EXPECT_TRUE(s.empty());
  ASSERT_TRUE(ParseSamplerSpec("auto", &s, &error));
  EXPECT_EQ(s, std::vector<SamplerChoice>{SamplerChoice::kAuto});
}

TEST(SamplerSpec, RejectsBadSpecsWithOneLine) {
  std::vector<SamplerChoice> s;
  std::string error;
  for (const char* bad : {"", "timr", "timer+", "timer+timer", "pebs+timer", "+faults"}) {
    error.clear();
    EXPECT_FALSE(ParseSamplerSpec(bad, &s, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  ParseSamplerSpec("timr", &s, &error);
  EXPECT_NE(error.find("'timr'"), std::string::npos) << error;
}

TEST(SamplePeriod, Units) {
  uint64_t p = 0;
  std::string error;
  ASSERT_TRUE(ParseSamplePeriod("1ms", &p, &error));
  EXPECT_EQ(p, 1000000u);
  ASSERT_TRUE(ParseSamplePeriod("250us", &p, &error));
  EXPECT_EQ(p, 250000u);
  ASSERT_TRUE(ParseSamplePeriod("10007", &p, &error));
  EXPECT_EQ(p, 10007u);
  ASSERT_TRUE(ParseSamplePeriod("2.5ms", &p, &error)) << error;  // as the record summary says it
  EXPECT_EQ(p, 2500000u);
  ASSERT_TRUE(ParseSamplePeriod("0.25s", &p, &error)) << error;
  EXPECT_EQ(p, 250000000u);
  for (const char* bad : {"", "0", "-5", "1h", "ms", "99999999999999999999", "2.5", "1.5ns", "3.ms",
                          "0.0ms", "1.2.3ms"}) {
    EXPECT_FALSE(ParseSamplePeriod(bad, &p, &error)) << bad;
  }
}

TEST(SampleBudget, PercentAndFraction) {
  double b = 0;
  std::string error;
  ASSERT_TRUE(ParseSampleBudget("3%", &b, &error));
  EXPECT_DOUBLE_EQ(b, 0.03);
  ASSERT_TRUE(ParseSampleBudget("0.05", &b, &error));
  EXPECT_DOUBLE_EQ(b, 0.05);
  ASSERT_TRUE(ParseSampleBudget("0", &b, &error));
  EXPECT_EQ(b, 0);
  for (const char* bad : {"", "x", "3%%", "100%", "-1", "nan"}) {
    EXPECT_FALSE(ParseSampleBudget(bad, &b, &error)) << bad;
  }
}

TEST(SampleEvents, CommaSeparated) {
  std::vector<std::string> e;
  std::string error;
  ASSERT_TRUE(ParseSampleEvents("A:B:ldlat=3,C", &e, &error));
  EXPECT_EQ(e, (std::vector<std::string>{"A:B:ldlat=3", "C"}));
  EXPECT_FALSE(ParseSampleEvents("A,,C", &e, &error));
}

// Without TIERSCOPE_SAMPLER (and without --sampler) the recorder samples with what the machine
// has: a recording without access samples can plan nothing.
TEST(SamplingEnv, SamplingIsAutoUnlessAsked) {
  unsetenv("TIERSCOPE_SAMPLER");
  SamplingOptions o;
  std::string error;
  ASSERT_TRUE(SamplingOptionsFromEnv(&o, &error)) << error;
  ASSERT_EQ(o.samplers.size(), 1u);
  EXPECT_EQ(o.samplers[0], SamplerChoice::kAuto);
  setenv("TIERSCOPE_SAMPLER", "none", 1);
  ASSERT_TRUE(SamplingOptionsFromEnv(&o, &error)) << error;
  EXPECT_TRUE(o.samplers.empty());
  unsetenv("TIERSCOPE_SAMPLER");
}

TEST(SamplingEnv, ReadsVariablesAndNamesTheBadOne) {
  setenv("TIERSCOPE_SAMPLER", "timer+faults", 1);
  setenv("TIERSCOPE_SAMPLE_PERIOD", "2ms", 1);
  setenv("TIERSCOPE_SAMPLE_BUDGET", "5%", 1);
  SamplingOptions o;
  std::string error;
  ASSERT_TRUE(SamplingOptionsFromEnv(&o, &error)) << error;
  EXPECT_EQ(o.samplers.size(), 2u);
  EXPECT_EQ(o.period, 2000000u);
  EXPECT_DOUBLE_EQ(o.cpu_budget, 0.05);
  setenv("TIERSCOPE_SAMPLE_PERIOD", "soon", 1);
  EXPECT_FALSE(SamplingOptionsFromEnv(&o, &error));
  EXPECT_EQ(error.rfind("TIERSCOPE_SAMPLE_PERIOD: ", 0), 0u) << error;
  setenv("TIERSCOPE_SAMPLE_PERIOD", "2ms", 1);
  setenv("TIERSCOPE_TIMER_SAMPLE_COST", "60us", 1);
  ASSERT_TRUE(SamplingOptionsFromEnv(&o, &error)) << error;
  EXPECT_EQ(o.timer_sample_cost_ns, 60000u);
  setenv("TIERSCOPE_TIMER_SAMPLE_COST", "a lot", 1);
  EXPECT_FALSE(SamplingOptionsFromEnv(&o, &error));
  EXPECT_EQ(error.rfind("TIERSCOPE_TIMER_SAMPLE_COST: bad timer sample cost 'a lot'", 0), 0u)
      << error;
  unsetenv("TIERSCOPE_TIMER_SAMPLE_COST");
  unsetenv("TIERSCOPE_SAMPLER");
  unsetenv("TIERSCOPE_SAMPLE_PERIOD");
  unsetenv("TIERSCOPE_SAMPLE_BUDGET");
}

}  // namespace
}  // namespace tierscope::recorder
