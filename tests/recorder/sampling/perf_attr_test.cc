// Attr fields per source. PEBS runs once per forced libpfm4 model (LIBPFM_FORCE_PMU, set by
// CMake per test): libpfm4 reads it at initialization, once per process.
#include "perf_attr.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdlib>
#include <string>

namespace tierscope::recorder::sampling {
namespace {

constexpr uint64_t kPebsSampleType = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                                     PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC;

TEST(TimerAttr, TaskClockWithUserRegisters) {
  perf_event_attr a = TimerAttr(0);
  EXPECT_EQ(a.type, uint32_t{PERF_TYPE_SOFTWARE});
  EXPECT_EQ(a.config, uint64_t{PERF_COUNT_SW_TASK_CLOCK});
  EXPECT_EQ(a.sample_period, kDefaultTimerPeriodNs);
  EXPECT_EQ(a.sample_type,
            uint64_t{PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_REGS_USER});
  EXPECT_EQ(a.sample_regs_user, 0xff0fffULL);
  EXPECT_EQ(__builtin_popcountll(a.sample_regs_user), kTimerRegCount);
  EXPECT_EQ(a.use_clockid, 1u);
  EXPECT_EQ(a.clockid, CLOCK_MONOTONIC);
  EXPECT_EQ(a.exclude_kernel, 1u);
  EXPECT_EQ(a.size, sizeof(perf_event_attr));
  EXPECT_EQ(TimerAttr(250000).sample_period, 250000u);
}

TEST(FaultsAttr, EveryFaultWithAddress) {
  perf_event_attr a = FaultsAttr();
  EXPECT_EQ(a.type, uint32_t{PERF_TYPE_SOFTWARE});
  EXPECT_EQ(a.config, uint64_t{PERF_COUNT_SW_PAGE_FAULTS});
  EXPECT_EQ(a.sample_period, 1u);
  EXPECT_TRUE(a.sample_type & PERF_SAMPLE_ADDR);
  EXPECT_FALSE(a.sample_type & PERF_SAMPLE_REGS_USER);
}

// IbsOpCntCtl (config bit 19): the period counts dispatched ops, as the docs and the header say,
// not cycles (the hardware's default when the bit is clear).
TEST(IbsAttr, PeriodCountsDispatchedOpsWhenThePmuCan) {
  IbsFeatures with{.pmu_type = 11, .l3missonly = false, .swfilt = false, .cnt_ctl = true};
  EXPECT_EQ(IbsOpAttr(with, 0x10000, false).config, uint64_t{1} << 19);
  IbsFeatures without{.pmu_type = 11, .l3missonly = false, .swfilt = false, .cnt_ctl = false};
  EXPECT_EQ(IbsOpAttr(without, 0x10000, false).config, 0u) << "no cnt_ctl in sysfs: not set";
}

TEST(IbsAttr, Zen3WithoutSwfilt) {
  IbsFeatures zen3{.pmu_type = 11, .l3missonly = false, .swfilt = false, .cnt_ctl = true};
  perf_event_attr a = IbsOpAttr(zen3, 100000, /*l3_miss_only=*/true);
  EXPECT_EQ(a.type, 11u);
  EXPECT_EQ(a.sample_period, 100000u & ~15u);
  EXPECT_EQ(a.sample_period % 16, 0u);
  EXPECT_EQ(a.config, uint64_t{1} << 19) << "Zen 3 has no l3missonly bit; ops, not cycles";
  EXPECT_EQ(a.config2, 0u);
  EXPECT_EQ(a.exclude_kernel, 0u) << "without swfilt exclude_kernel gives EINVAL";
  EXPECT_EQ(a.exclude_hv, 0u);
  EXPECT_EQ(a.sample_type, kPebsSampleType);
  EXPECT_EQ(a.clockid, CLOCK_MONOTONIC);
}

TEST(IbsAttr, Zen4WithL3MissOnlyAndSwfilt) {
  IbsFeatures zen4{.pmu_type = 12, .l3missonly = true, .swfilt = true, .cnt_ctl = true};
  perf_event_attr a = IbsOpAttr(zen4, 0x10007, true);
  EXPECT_EQ(a.type, 12u);
  EXPECT_EQ(a.sample_period, 0x10000u);
  EXPECT_EQ(a.config, (uint64_t{1} << 16) | (uint64_t{1} << 19));
  EXPECT_EQ(a.config2, 1u);
  EXPECT_EQ(a.exclude_kernel, 1u);
  EXPECT_EQ(IbsOpAttr(zen4, 0x10000, false).config, uint64_t{1} << 19);
  EXPECT_EQ(IbsOpAttr(zen4, 3, false).sample_period, 16u) << "periods below 16 round up";
  EXPECT_EQ(IbsOpAttr(zen4, 0, false).sample_period, kDefaultIbsPeriod);
}

TEST(IbsFeatures, ThisMachineHasNoIbsAndSaysWhatToDo) {
  IbsFeatures f;
  std::string error;
  if (ReadIbsFeatures(&f, &error)) GTEST_SKIP() << "this host has IBS (type " << f.pmu_type << ")";
  EXPECT_NE(error.find("ibs_op"), std::string::npos) << error;
  EXPECT_NE(error.find("--sampler timer"), std::string::npos) << error;
}

// Runs only with LIBPFM_FORCE_PMU set (see tests/recorder/sampling/CMakeLists.txt).
class PebsForced : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* model = std::getenv("LIBPFM_FORCE_PMU");
    if (model == nullptr) GTEST_SKIP() << "needs LIBPFM_FORCE_PMU";
    model_ = model;
  }
  std::string model_;
};

TEST_F(PebsForced, DefaultEventsPerModel) {
  std::string error;
  ASSERT_TRUE(InitPfm(&error)) << error;
  EXPECT_EQ(PfmCorePmuName(), model_);
  std::vector<PebsEvent> events;
  ASSERT_TRUE(PebsAttrs({}, 0, &events, &error)) << error;
  const bool aux = model_ == "spr";
  ASSERT_EQ(events.size(), aux ? 3u : 2u);
  size_t i = 0;
  if (aux) {
    const PebsEvent& leader = events[i++];
    EXPECT_EQ(leader.name, "mem-loads-aux");
    EXPECT_TRUE(leader.group_leader);
    EXPECT_EQ(leader.attr.type, 4u);
    EXPECT_EQ(leader.attr.config, 0x8203u);
  }
  const PebsEvent& loads = events[i++];
  EXPECT_FALSE(loads.group_leader);
  EXPECT_EQ(loads.name, "MEM_TRANS_RETIRED:LOAD_LATENCY:ldlat=32");
  EXPECT_EQ(loads.attr.type, 4u);
  EXPECT_EQ(loads.attr.config, 0x1cdu);
  EXPECT_EQ(loads.attr.config1, 0x20u);
  EXPECT_EQ(loads.attr.precise_ip, 2u) << "libpfm4 leaves it 0; PEBS needs it set";
  EXPECT_EQ(loads.attr.sample_type, kPebsSampleType);
  EXPECT_EQ(loads.attr.sample_period, kDefaultPebsPeriod);
  EXPECT_EQ(loads.attr.exclude_kernel, 1u);
  EXPECT_EQ(loads.attr.clockid, CLOCK_MONOTONIC);
  const PebsEvent& stores = events[i++];
  EXPECT_EQ(stores.attr.type, 4u);
  EXPECT_EQ(stores.attr.config, 0x82d0u);
  EXPECT_EQ(stores.attr.config1, 0u);
  EXPECT_EQ(stores.attr.precise_ip, 2u);
  EXPECT_EQ(stores.attr.sample_type, kPebsSampleType);
}

// The trace header lists every sampled event of the source (loads and stores), not the last one.
TEST_F(PebsForced, HeaderHasAConfigPerSampledEvent) {
  std::string error;
  std::vector<PebsEvent> events;
  ASSERT_TRUE(PebsAttrs({}, 0, &events, &error)) << error;
  const auto configs = SamplerConfigsFor(trace::SAMPLER_PEBS, events, true, 0.03);
  std::vector<const PebsEvent*> sampled;
  for (const auto& e : events) {
    if (!e.group_leader) sampled.push_back(&e);
  }
  ASSERT_EQ(sampled.size(), 2u);
  ASSERT_EQ(configs.size(), sampled.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    EXPECT_EQ(configs[i].kind(), trace::SAMPLER_PEBS);
    EXPECT_EQ(configs[i].event(), sampled[i]->name);
    EXPECT_EQ(configs[i].perf_config(), sampled[i]->attr.config);
    EXPECT_EQ(configs[i].perf_config1(), sampled[i]->attr.config1);
    EXPECT_EQ(configs[i].period(), sampled[i]->attr.sample_period);
    EXPECT_TRUE(configs[i].adaptive());
  }
  EXPECT_NE(configs[0].event().find("LOAD"), std::string::npos) << configs[0].event();
  EXPECT_NE(configs[1].event().find("STORES"), std::string::npos) << configs[1].event();
}

TEST_F(PebsForced, UserEventsKeepTheirPreciseAndPeriod) {
  std::string error;
  std::vector<PebsEvent> events;
  ASSERT_TRUE(
      PebsAttrs({"MEM_TRANS_RETIRED:LOAD_LATENCY:ldlat=128:precise=3"}, 5003, &events, &error))
      << error;
  const PebsEvent& loads = events.back();
  EXPECT_EQ(loads.attr.config1, 128u);
  EXPECT_EQ(loads.attr.precise_ip, 3u);
  EXPECT_EQ(loads.attr.sample_period, 5003u);
  EXPECT_EQ(events.front().group_leader, model_ == "spr");
}

TEST_F(PebsForced, UnknownEventIsOneLineNamingIt) {
  std::string error;
  std::vector<PebsEvent> events;
  EXPECT_FALSE(PebsAttrs({"NO_SUCH_EVENT:FOO"}, 0, &events, &error));
  EXPECT_NE(error.find("'NO_SUCH_EVENT:FOO'"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace tierscope::recorder::sampling
