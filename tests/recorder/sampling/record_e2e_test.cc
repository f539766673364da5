// End to end: ts-example-kvcache recorded with `tierscope record --sampler timer`; the trace's
// samples, joined to the allocations live at their time by address, must rank the sites as the
// workload designed them (index hot > values warm > log + archive cold).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "perf_open.h"
#include "test_support.h"
#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope {
namespace {

using testing::RunCommand;

enum Class { kHot, kWarm, kCold, kOther, kClasses };

struct Site {
  uint64_t bytes = 0;       // allocated over the run
  uint64_t block_size = 0;  // bytes / allocs: exact for the single-size sites
};

// The sites from `--print-sites` ("site NAME ... bytes=B ... allocs=A"): the workload states its
// own ground truth.
std::map<std::string, Site> ParseSites(const std::string& out) {
  std::map<std::string, Site> sites;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    char name[32];
    unsigned long long bytes = 0, allocs = 0;
    const size_t b = line.find("bytes="), a = line.find("allocs=");
    if (std::sscanf(line.c_str(), "site %31s", name) != 1 || b == std::string::npos ||
        a == std::string::npos) {
      continue;
    }
    bytes = std::stoull(line.substr(b + 6));
    allocs = std::stoull(line.substr(a + 7));
    if (allocs > 0) sites[name] = {bytes, bytes / allocs};
  }
  return sites;
}

struct Joined {
  uint64_t samples = 0;  // timer samples with an address
  uint64_t undecoded = 0;
  uint64_t by_class[kClasses] = {};
  uint64_t malloc_headers = 0;                  // in the 16 bytes before a live block
  std::map<uint32_t, uint64_t> samples_by_tid;  // timer samples per thread
  std::set<uint32_t> threads;
};

Joined JoinTrace(const std::string& path, const std::map<std::string, Site>& sites) {
  std::vector<formats::AllocEvent> allocs;
  std::vector<formats::AccessSample> samples;
  Joined j;
  formats::TraceReader reader(path);
  trace::TraceChunk chunk;
  trace::Counters counters;
  while (reader.Next(&chunk)) {
    for (const auto& batch : chunk.allocs()) {
      formats::AllocBatchCursor cursor(batch);
      formats::AllocEvent e;
      while (cursor.Next(&e)) allocs.push_back(e);
    }
    for (const auto& batch : chunk.samples()) {
      if (batch.source() != trace::SAMPLER_TIMER) continue;
      formats::SampleBatchCursor cursor(batch);
      formats::AccessSample s;
      while (cursor.Next(&s)) {
        samples.push_back(s);
        ++j.samples_by_tid[batch.tid()];
      }
    }
    for (const auto& t : chunk.threads()) j.threads.insert(t.tid());
    if (chunk.has_counters()) counters = chunk.counters();
  }
  EXPECT_FALSE(reader.error().has_value());
  j.undecoded = counters.samples_undecoded();
  auto by_time = [](const auto& a, const auto& b) { return a.time_ns < b.time_ns; };
  std::stable_sort(allocs.begin(), allocs.end(), by_time);
  std::stable_sort(samples.begin(), samples.end(), by_time);

  auto classify = [&](uint64_t size) {
    auto is = [&](const char* site) {
      auto it = sites.find(site);
      return it != sites.end() && it->second.block_size == size;
    };
    if (is("index")) return kHot;
    if (is("log") || is("archive")) return kCold;
    if (size >= 64 && size <= 4096 && (size & (size - 1)) == 0) return kWarm;  // value blocks
    return kOther;
  };
  struct Live {
    uint64_t end;
    Class cls;
  };
  std::map<uint64_t, Live> live;  // start -> block
  size_t next = 0;
  for (const auto& s : samples) {
    for (; next < allocs.size() && allocs[next].time_ns <= s.time_ns; ++next) {
      const auto& e = allocs[next];
      if (formats::KindIsAllocation(e.kind)) {
        live[e.address] = {e.address + e.size, classify(e.size)};
      } else if (formats::KindIsRelease(e.kind)) {
        live.erase(e.address);
      }
    }
    ++j.samples;
    auto it = live.upper_bound(s.address);
    if (it == live.begin()) continue;
    --it;
    if (s.address < it->second.end) {
      ++j.by_class[it->second.cls];
      continue;
    }
    // glibc's chunk header (size field) sits in the 16 bytes before a block: malloc and free
    // read it; it lives on the block's page, but it is not inside the block.
    if (++it != live.end() && it->first - s.address <= 16) ++j.malloc_headers;
  }
  return j;
}

// Temperature is per byte: what a tier holds is bytes. Timer samples are weighted by stall
// time, so a big block that misses the cache on every read can collect as many samples in total
// as a small one read 3x more often; per byte the designed ranking is unambiguous.
void RecordAndCheck(const std::string& threads) {
  testing::TempDir dir;
  const std::string trace = dir.File("kv.trace");
  // A fixed period (budget 0): what is checked here is attribution, and the adaptive period of a
  // busy CI host would only thin the samples out.
  auto r = RunCommand({testing::TierscopeBin(), "record", "-q", "-o", trace, "--sampler", "timer",
                       "--sample-budget", "0", "--", testing::ExampleBin("ts-example-kvcache"),
                       "--print-sites", "--threads", threads});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto sites = ParseSites(r.out);
  for (const char* name : {"index", "values", "log", "archive"}) {
    ASSERT_EQ(sites.count(name), 1u) << name << " missing in " << r.out;
  }
  Joined j = JoinTrace(trace, sites);
  const uint64_t total = j.samples + j.undecoded;
  const uint64_t in_heap =
      j.by_class[kHot] + j.by_class[kWarm] + j.by_class[kCold] + j.by_class[kOther];
  const double mib = 1 << 20;
  const double hot = j.by_class[kHot] / (sites.at("index").bytes / mib);
  const double warm = j.by_class[kWarm] / (sites.at("values").bytes / mib);
  const double cold =
      j.by_class[kCold] / ((sites.at("log").bytes + sites.at("archive").bytes) / mib);
  std::printf(
      "threads %s: %lu samples (%lu undecoded, %lu in live heap blocks, %lu on malloc headers): "
      "hot %lu warm %lu cold %lu other %lu; per MiB: hot %.1f warm %.2f cold %.2f\n",
      threads.c_str(), total, j.undecoded, in_heap, j.malloc_headers, j.by_class[kHot],
      j.by_class[kWarm], j.by_class[kCold], j.by_class[kOther], hot, warm, cold);
  for (const auto& [tid, n] : j.samples_by_tid) std::printf("  thread %u: %lu samples\n", tid, n);
  ASSERT_GE(total, 200u) << "too few timer samples";
  // The bar, over the samples whose address could be decoded (pointer chasing overwrites
  // its own base register: ~17% here); the rest is stack, globals and allocator internals. Over
  // all samples the share has two modes on this VM, with the recorder of 8d08e39 as with later
  // ones: 56-61%, or 42-48% when the first touch of the 76 MiB of values costs the program less
  // (this PVM guest charges a fault's trip through the hypervisor to the touching instruction:
  // ~300 fewer "warm" samples). Over the decoded ones: 68-69%, or 54-60%.
  const uint64_t decoded = total - j.undecoded;
  EXPECT_GE(2 * in_heap, decoded) << "fewer than half the decoded samples in a live heap block";
  EXPECT_GT(hot, warm);
  EXPECT_GT(warm, cold);
  EXPECT_GT(j.by_class[kHot], j.by_class[kCold]);
  EXPECT_GT(j.by_class[kWarm], j.by_class[kCold]);
  for (uint32_t tid : j.threads) {
    EXPECT_GT(j.samples_by_tid[tid], 0u) << "no samples from thread " << tid;
  }
  EXPECT_EQ(j.threads.size(), static_cast<size_t>(std::stoi(threads)));
}

// The timer's header config of the trace at `path` (period, measured sample cost).
trace::SamplerConfig TimerConfig(const std::string& path) {
  formats::TraceReader reader(path);
  trace::TraceChunk chunk;
  while (reader.Next(&chunk)) {
    if (!chunk.has_header()) continue;
    for (const auto& c : chunk.header().samplers()) {
      if (c.kind() == trace::SAMPLER_TIMER) return c;
    }
  }
  ADD_FAILURE() << "no timer config in " << path;
  return {};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string BootId() {
  std::string id = ReadFile("/proc/sys/kernel/random/boot_id");
  return id.substr(0, id.find('\n'));
}

testing::CommandResult RecordTrue(const testing::TempDir& dir,
                                  const std::vector<std::string>& flags,
                                  const std::string& extra_env = "TIERSCOPE_UNUSED=1") {
  std::vector<std::string> argv = {testing::TierscopeBin(), "record",    "-o",
                                   dir.File("t.trace"),     "--sampler", "timer"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"--", "/bin/true"});
  return RunCommand(argv, {"XDG_CACHE_HOME=" + dir.File("cache"), extra_env});
}

// The cost of one timer sample, kept for this boot, sets the default period: 300 us in 80% of
// the 3% budget is one sample per 12.5 ms, and the summary says why.
TEST(TimerSampleCost, TheCostKeptForThisBootSetsTheDefaultPeriod) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.File("cache/tierscope"));
  std::ofstream(dir.File("cache/tierscope/timer-sample-cost")) << BootId() << " 300000\n";
  auto r = RecordTrue(dir, {}, "TIERSCOPE_SAMPLE_STATS=1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto config = TimerConfig(dir.File("t.trace"));
  EXPECT_EQ(config.sample_cost_ns(), 300000u);
  EXPECT_EQ(config.period(), 12500000u);
  // The bench's stats line (bench/sampling/sampler_overhead.py reads it) names the same period.
  EXPECT_NE(r.err.find("sampling stats: samples="), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" period=12500000"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("costs the program about 300 us here; it sampled every 12.5 ms"),
            std::string::npos)
      << r.err;
}

// Another boot's figure, or a damaged file, is measured again and replaced; the period then keeps
// the measured cost within 80% of the budget.
void ExpectMeasuredAgain(const std::string& kept_line) {
  testing::TempDir dir;
  const std::string cache = dir.File("cache/tierscope/timer-sample-cost");
  std::filesystem::create_directories(dir.File("cache/tierscope"));
  std::ofstream(cache) << kept_line;
  auto r = RecordTrue(dir, {"-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream kept(ReadFile(cache));
  std::string boot;
  uint64_t cost = 0;
  ASSERT_TRUE(kept >> boot >> cost) << ReadFile(cache);
  EXPECT_EQ(boot, BootId());
  const auto config = TimerConfig(dir.File("t.trace"));
  if (cost == 0) {
    EXPECT_EQ(config.period(), 1000000u);  // too cheap to tell from noise: the default
  } else {
    EXPECT_EQ(config.sample_cost_ns(), cost);
    EXPECT_GE(config.period(), 1000000u);
    EXPECT_LE(double(cost) / double(config.period()), 0.8 * 0.03 + 1e-9);
  }
}

TEST(TimerSampleCost, AnotherBootsFigureIsMeasuredAgain) {
  ExpectMeasuredAgain("00000000-0000-0000-0000-000000000000 300000\n");
}

TEST(TimerSampleCost, ADamagedFigureIsMeasuredAgain) {
  ExpectMeasuredAgain(BootId() + " 99999999999\n");
  ExpectMeasuredAgain(BootId() + "\n");
  ExpectMeasuredAgain(
      "\x7f"
      "ELF");
}

// A period the user gives is theirs: nothing is measured, nothing cached.
TEST(TimerSampleCost, AGivenPeriodIsKeptAndNothingIsMeasured) {
  testing::TempDir dir;
  auto r = RecordTrue(dir, {"-q", "--sample-period", "1ms"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto config = TimerConfig(dir.File("t.trace"));
  EXPECT_EQ(config.period(), 1000000u);
  EXPECT_EQ(config.sample_cost_ns(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir.File("cache/tierscope/timer-sample-cost")));
}

// libpfm4 is loaded only where PEBS is asked for: its 41k relocations cost every process ~5 ms
// at start when the library was linked (docs/benchmarks.md).
TEST(RecordWithTimerSampler, LibpfmIsLoadedOnlyForPebs) {
  testing::TempDir dir;
  auto maps_under = [&](const char* sampler) {
    auto r = RunCommand({testing::TierscopeBin(), "record", "-q", "-o", dir.File("m.trace"),
                         "--sampler", sampler, "--", "/bin/cat", "/proc/self/maps"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("libtierscope-recorder.so"), std::string::npos) << r.out;
    return r.out;
  };
  EXPECT_EQ(maps_under("timer").find("libpfm"), std::string::npos);
  EXPECT_EQ(maps_under("none").find("libpfm"), std::string::npos);
  // PEBS opens nowhere without a PMU, but asking for it loads libpfm4 to name the events.
  EXPECT_NE(maps_under("pebs").find("libpfm"), std::string::npos);
  // `auto` (the default) asks the kernel for the cycles event first: without a hardware PMU, as
  // in most VMs, it never loads libpfm4.
  const bool pmu = recorder::sampling::OpenHardwareCycles() == 0;
  EXPECT_EQ(maps_under("auto").find("libpfm") != std::string::npos, pmu);
}

TEST(RecordWithTimerSampler, KvcacheSitesRankHotWarmCold) {
  RecordAndCheck("1");
}

TEST(RecordWithTimerSampler, EveryWorkerThreadContributesSamples) {
  RecordAndCheck("2");
}

TEST(RecordWithTimerSampler, BadSamplingFlagsAreOneLineUsageErrors) {
  for (const std::vector<std::string>& flags : {std::vector<std::string>{"--sampler", "timr"},
                                                {"--sample-period", "1h"},
                                                {"--sample-budget", "200%"},
                                                {"--sampler", "pebs+timer"}}) {
    std::vector<std::string> argv = {testing::TierscopeBin(), "record", "-o", "/tmp/x.trace"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"--", "/bin/true"});
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 2) << flags[0] << " " << flags[1];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// The variables `record` would hand its program are checked before it starts: inside the program
// a bad one would only turn sampling off, with the run recorded for nothing.
TEST(RecordWithTimerSampler, BadInheritedSamplingVariablesAreOneLineUsageErrors) {
  testing::TempDir dir;
  for (const std::string var :
       {"TIERSCOPE_SAMPLER=timr", "TIERSCOPE_SAMPLE_PERIOD=soon", "TIERSCOPE_SAMPLE_BUDGET=200%",
        "TIERSCOPE_TIMER_SAMPLE_COST=a lot"}) {
    auto r = RunCommand({testing::TierscopeBin(), "record", "-o", dir.File("x.trace"), "--",
                         "/bin/echo", "never ran"},
                        {var});
    EXPECT_EQ(r.exit_code, 2) << var;
    EXPECT_EQ(r.out, "") << var;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(var.substr(0, var.find('='))), std::string::npos) << r.err;
  }
}

TEST(RecordWithTimerSampler, UnavailableSamplerStillRunsTheProgram) {
  testing::TempDir dir;
  auto r = RunCommand({testing::TierscopeBin(), "record", "-q", "-o", dir.File("t.trace"),
                       "--sampler", "ibs", "--", "/bin/echo", "still here"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "still here\n");
  // Decided by the host, not by the output under test: a message that lost its words must fail.
  const bool host_has_ibs = std::filesystem::exists("/sys/bus/event_source/devices/ibs_op");
  if (host_has_ibs) {
    EXPECT_EQ(r.err.find("ibs:"), std::string::npos) << r.err;
  } else {
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("ibs: no ibs_op PMU"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--sampler timer"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace tierscope
