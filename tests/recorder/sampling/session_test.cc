// The whole sampling session for real on this machine: per-thread task-clock and page-fault
// events, one drain thread, decoded samples handed to a sink.
#include "sampling_session.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace tierscope::recorder::sampling {
namespace {

class CollectingSink : public SampleSink {
 public:
  void OnSamples(uint32_t tid, trace::SamplerKind source, const formats::AccessSample* samples,
                 size_t count) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < count; ++i) this->samples.push_back({tid, source, samples[i]});
  }
  void AddCounters(const trace::Counters& delta) override {
    std::lock_guard<std::mutex> lock(mu_);
    counters.MergeFrom(delta);
    undecoded += delta.samples_undecoded();
  }
  struct Got {
    uint32_t tid;
    trace::SamplerKind source;
    formats::AccessSample sample;
  };
  std::vector<Got> samples;
  trace::Counters counters;  // maps merged; scalars summed separately
  uint64_t undecoded = 0;

 private:
  std::mutex mu_;
};

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

// Reads hot 10 times for every read of cold, at random slots. Each index depends on the previous
// load, so every read is its own cache miss: timer samples (weighted by stall time) then follow
// the access counts.
uint64_t TouchHotAndCold(const uint64_t* hot, const uint64_t* cold, size_t words, uint64_t rounds,
                         uint64_t seed) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < rounds; ++i) {
    uint64_t r = Mix(seed + i);
    for (int k = 0; k < 10; ++k) sum += hot[((r >> (k * 3)) ^ sum) & (words - 1)];
    sum += cold[((r >> 31) ^ sum) & (words - 1)];
  }
  return sum;
}

SamplingOptions Timer(uint64_t period) {
  SamplingOptions o;
  o.samplers = {SamplerChoice::kTimer};
  o.period = period;
  o.cpu_budget = 0;  // fixed period: the test counts samples
  return o;
}

TEST(SamplingSession, TimerSamplesLandInHotMoreThanColdFromEveryThread) {
  CollectingSink sink;
  std::string error;
  auto session = SamplingSession::Create(Timer(250000), &sink, {}, &error);
  ASSERT_NE(session, nullptr) << error;
  ASSERT_EQ(session->configs().size(), 1u);
  EXPECT_EQ(session->configs()[0].kind(), trace::SAMPLER_TIMER);
  EXPECT_NE(session->configs()[0].weighting().find("stall time"), std::string::npos);

  const size_t words = 1 << 20;  // 8 MiB each: larger than the caches
  std::vector<uint64_t> hot(words, 1), cold(words, 2);
  constexpr int kThreads = 3;
  std::vector<pid_t> tids(kThreads);
  std::vector<std::thread> workers;
  std::vector<uint64_t> sums(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      tids[t] = gettid();
      session->OnThreadStart(tids[t]);
      sums[t] = TouchHotAndCold(hot.data(), cold.data(), words, 300000, t * 1000003);
      session->OnThreadExit(tids[t]);
    });
  }
  for (auto& w : workers) w.join();
  session->Stop();

  const uint64_t hlo = reinterpret_cast<uint64_t>(hot.data()), hhi = hlo + words * 8;
  const uint64_t clo = reinterpret_cast<uint64_t>(cold.data()), chi = clo + words * 8;
  uint64_t in_hot = 0, in_cold = 0;
  std::map<uint32_t, uint64_t> per_thread;
  for (const auto& g : sink.samples) {
    EXPECT_EQ(g.source, trace::SAMPLER_TIMER);
    if (g.sample.address >= hlo && g.sample.address < hhi) ++in_hot;
    if (g.sample.address >= clo && g.sample.address < chi) ++in_cold;
    ++per_thread[g.tid];
  }
  const SessionStats stats = session->stats();
  std::printf("samples %lu: hot %lu, cold %lu, undecoded %lu\n", stats.samples, in_hot, in_cold,
              stats.undecoded);
  ASSERT_GE(stats.samples, 100u) << "the timer produced too few samples";
  EXPECT_EQ(stats.samples, stats.decoded + stats.undecoded);
  EXPECT_EQ(sink.samples.size(), stats.decoded);
  EXPECT_EQ(sink.undecoded, stats.undecoded) << "undecoded samples reach the trace counters";
  EXPECT_GE(2 * (in_hot + in_cold), stats.samples)
      << "hot " << in_hot << " cold " << in_cold << " of " << stats.samples;
  EXPECT_GT(in_hot, in_cold);
  for (pid_t tid : tids) EXPECT_GT(per_thread[tid], 0u) << "no samples from thread " << tid;
  EXPECT_EQ(stats.threads_opened, uint64_t{kThreads});
}

TEST(SamplingSession, FaultsGiveFirstTouchAddressesOfAFreshMapping) {
  CollectingSink sink;
  SamplingOptions o;
  o.samplers = {SamplerChoice::kFaults};
  std::string error;
  auto session = SamplingSession::Create(o, &sink, {}, &error);
  ASSERT_NE(session, nullptr) << error;
  const size_t page = 4096, pages = 1024;
  auto* region = static_cast<uint8_t*>(
      mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(region, MAP_FAILED);
  madvise(region, pages * page, MADV_NOHUGEPAGE);  // one fault per 4 KiB page
  std::thread toucher([&] {
    session->OnThreadStart(gettid());
    for (size_t p = 0; p < pages; ++p) region[p * page + 7] = 1;
    session->OnThreadExit(gettid());
  });
  toucher.join();
  session->Stop();
  std::set<uint64_t> touched_pages;
  const uint64_t lo = reinterpret_cast<uint64_t>(region);
  for (const auto& g : sink.samples) {
    EXPECT_EQ(g.sample.access, trace::ACCESS_FIRST_TOUCH);
    if (g.sample.address >= lo && g.sample.address < lo + pages * page) {
      EXPECT_EQ(g.sample.address % page, 7u) << "the faulting address, not the page";
      touched_pages.insert((g.sample.address - lo) / page);
    }
  }
  munmap(region, pages * page);
  EXPECT_GE(touched_pages.size() + session->stats().lost, pages * 9 / 10);
}

TEST(SamplingSession, PebsOnThisVmFailsWithOneLineAndAdvice) {
  CollectingSink sink;
  SamplingOptions o;
  o.samplers = {SamplerChoice::kPebs};
  std::string error;
  auto session = SamplingSession::Create(o, &sink, {}, &error);
  if (session) GTEST_SKIP() << "this host has PEBS";
  EXPECT_NE(error.find("pebs"), std::string::npos) << error;
  EXPECT_NE(error.find("--sampler timer"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(SamplingSession, AutoFallsBackAndSaysWhichSource) {
  CollectingSink sink;
  SamplingOptions o;
  o.samplers = {SamplerChoice::kAuto, SamplerChoice::kFaults};
  std::vector<std::string> notices;
  SessionHooks hooks;
  hooks.notice = [&](const std::string& line) { notices.push_back(line); };
  std::string error;
  auto session = SamplingSession::Create(o, &sink, hooks, &error);
  ASSERT_NE(session, nullptr) << error;
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].rfind("sampler auto: using ", 0), 0u) << notices[0];
  const auto configs = session->configs();
  ASSERT_EQ(configs.size(), 2u);
  EXPECT_EQ(configs[1].kind(), trace::SAMPLER_FAULTS);
  if (configs[0].kind() == trace::SAMPLER_TIMER) {
    EXPECT_NE(notices[0].find("using timer (pebs: "), std::string::npos) << notices[0];
  }
}

TEST(SamplingSession, AdaptivePeriodStretchesUnderATinyBudget) {
  CollectingSink sink;
  SamplingOptions o = Timer(100000);
  o.cpu_budget = 0.00001;  // far below what draining 10k samples/s costs
  std::string error;
  SessionHooks hooks;
  hooks.control_interval_ns = 20000000;  // 20 ms instead of 1 s: a short test
  auto session = SamplingSession::Create(o, &sink, hooks, &error);
  ASSERT_NE(session, nullptr) << error;
  const size_t words = 1 << 20;
  std::vector<uint64_t> hot(words, 1), cold(words, 2);
  std::thread worker([&] {
    session->OnThreadStart(gettid());
    // Work until the controller has acted: a fast idle host can finish one round before the
    // first control interval. Bounded, so a controller that never acts fails the test below.
    volatile uint64_t sum = 0;  // used, so the loads are not optimized away
    for (int round = 0; round < 200 && session->stats().period_changes == 0; ++round) {
      sum = sum + TouchHotAndCold(hot.data(), cold.data(), words, 200000, round + 1);
    }
    session->OnThreadExit(gettid());
  });
  worker.join();
  session->Stop();
  EXPECT_GT(session->stats().period_changes, 0u);
  EXPECT_GT(session->stats().current_period, 100000u);
}

}  // namespace
}  // namespace tierscope::recorder::sampling
