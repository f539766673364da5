// AnalysisObserver: what the join hands an observer in its one pass (whole block lifetimes,
// mappings unmapped piece by piece, blocks still live at the end, samples), and that watching
// changes nothing in the profile.
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "test_support.h"
#include "tierscope/analyzer/analyze.h"
#include "trace_builder.h"

namespace tierscope::testing {
namespace {

using analyzer::BlockLifetime;

struct Recorded : analyzer::AnalysisObserver {
  uint64_t start_ns = 0, duration_ns = 0;
  int bounds_calls = 0;
  std::vector<BlockLifetime> blocks;
  std::vector<std::pair<uint64_t, uint64_t>> samples;  // address, time

  void OnRunBounds(uint64_t start, uint64_t duration) override {
    start_ns = start;
    duration_ns = duration;
    ++bounds_calls;
  }
  void OnBlockLifetime(const BlockLifetime& block) override { blocks.push_back(block); }
  void OnSample(uint64_t address, uint64_t time_ns) override {
    samples.push_back({address, time_ns});
  }
};

auto Fields(const BlockLifetime& b) {
  return std::make_tuple(b.start, b.end, b.alloc_ns, b.free_ns, b.site_id, b.freed);
}

uint32_t SiteIdOf(const profile::ProfileChunk& p, uint32_t stack_id) {
  for (const auto& s : p.sites()) {
    if (s.stack(0).offset() == kTextStart + 0x1000 * stack_id) return s.id();
  }
  ADD_FAILURE() << "no site for stack " << stack_id;
  return 0;
}

void WriteTrace(const std::string& path) {
  TraceBuilder t(path);
  t.Allocs(1, {Alloc(100, 0x10000, 100, 1), Alloc(120, 0x100000, 0x3000, 3, trace::MMAP),
               Free(200, 0x10000),
               Free(250, 0x101000, trace::MUNMAP, 0x1000),  // the middle page of the mapping
               Alloc(300, 0x10000, 50, 2), Alloc(310, 0x20000, 64, 4),
               Alloc(320, 0x20000, 64, 4)});  // the first one's free was not seen
  t.Samples(1, {Load(150, 0x10010), Load(260, 0)});
  t.Allocs(2, {Free(400, 0x999990)});  // the last event: the run ends at 400
  t.Close();
}

analyzer::AnalyzeResult AnalyzeWatched(const std::string& path, Recorded* seen) {
  analyzer::AnalyzeOptions options;
  options.observer = seen;
  return analyzer::AnalyzeTrace(path, options);
}

TEST(AnalysisObserver, SeesEveryLifetimeAndSampleInOnePass) {
  TempDir dir;
  WriteTrace(dir.File("t"));
  Recorded seen;
  auto r = AnalyzeWatched(dir.File("t"), &seen);
  ASSERT_FALSE(r.error) << r.error->Message();
  const uint32_t s1 = SiteIdOf(r.profile, 1), s2 = SiteIdOf(r.profile, 2);
  const uint32_t s3 = SiteIdOf(r.profile, 3), s4 = SiteIdOf(r.profile, 4);

  EXPECT_EQ(seen.bounds_calls, 1);
  EXPECT_EQ(seen.start_ns, 100u);  // no start in the header: the first event
  EXPECT_EQ(seen.duration_ns, r.profile.metadata().duration_ns());
  EXPECT_EQ(seen.duration_ns, 300u);

  // In the order they end. The first block at 0x20000 ends when the second takes its address
  // (its release was not seen); what is live at the end ends at 400, by address. Neither kind
  // was freed.
  // clang-format off
  const std::vector<BlockLifetime> expected = {
      {0x10000, 0x10000 + 100, 100, 200, s1, true},
      {0x101000, 0x102000, 120, 250, s3, true},
      {0x20000, 0x20000 + 64, 310, 320, s4, false},
      {0x10000, 0x10000 + 50, 300, 400, s2, false},
      {0x20000, 0x20000 + 64, 320, 400, s4, false},
      {0x100000, 0x101000, 120, 400, s3, false},
      {0x102000, 0x103000, 120, 400, s3, false},
  };
  // clang-format on
  ASSERT_EQ(seen.blocks.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(Fields(seen.blocks[i]), Fields(expected[i])) << "lifetime " << i;

  // Every sample, undecoded ones (address 0) too.
  const std::vector<std::pair<uint64_t, uint64_t>> samples = {{0x10010, 150}, {0, 260}};
  EXPECT_EQ(seen.samples, samples);
}

TEST(AnalysisObserver, WatchingChangesNothingInTheProfile) {
  TempDir dir;
  WriteTrace(dir.File("t"));
  Recorded seen;
  auto with = AnalyzeWatched(dir.File("t"), &seen);
  auto without = analyzer::AnalyzeTrace(dir.File("t"));
  EXPECT_EQ(with.profile.SerializeAsString(), without.profile.SerializeAsString());
}

}  // namespace
}  // namespace tierscope::testing
