// The join on hand-built traces: every expected number is worked out in the comments.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <algorithm>
#include <cmath>

#include "symbolize/allocator_code.h"
#include "test_support.h"
#include "tierscope/analyzer/analyze.h"
#include "tierscope/formats/profile_io.h"
#include "trace_builder.h"

namespace tierscope::testing {
namespace {

using analyzer::AnalyzeTrace;

const profile::Site& SiteOf(const profile::ProfileChunk& p, uint32_t stack_id) {
  for (const auto& s : p.sites()) {
    if (s.stack(0).offset() == kTextStart + 0x1000 * stack_id) return s;
  }
  ADD_FAILURE() << "no site for stack " << stack_id;
  return p.sites(0);
}

uint64_t Region(const profile::ProfileChunk& p, const std::string& name) {
  auto it = p.metadata().samples_by_region().find(name);
  return it == p.metadata().samples_by_region().end() ? 0 : it->second;
}

TEST(Join, AddressReuseAndOutOfOrderThreadBatches) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  // Thread 2's batch is written first although thread 1's events come earlier and interleave.
  t.Samples(2, {Load(150, 0x10010),    // block A [0x10000, +100) live: site 1
                Load(250, 0x10010),    // A freed at 200, B not yet there: no owner
                Store(350, 0x10020),   // B [0x10000, +50) live: site 2
                Load(360, 0x10040)});  // past B's end: no owner
  t.Allocs(2, {Free(400, 0x999990)});  // never allocated
  t.Allocs(1, {Alloc(100, 0x10000, 100, 1), Free(200, 0x10000), Alloc(300, 0x10000, 50, 2)});
  t.Close();

  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_FALSE(r.error) << r.error->Message();
  const auto& p = r.profile;
  ASSERT_EQ(p.sites_size(), 2);
  const auto& a = SiteOf(p, 1);
  EXPECT_EQ(a.allocations(), 1u);
  EXPECT_EQ(a.bytes(), 100u);
  EXPECT_EQ(a.peak_live_bytes(), 100u);
  EXPECT_EQ(a.frees(), 1u);
  EXPECT_EQ(a.load_samples(), 1u);
  EXPECT_EQ(a.store_samples(), 0u);
  // Lifetime 100 ns falls in bucket 6: [64, 128).
  ASSERT_EQ(a.lifetime_log2_ns_size(), 7);
  EXPECT_EQ(a.lifetime_log2_ns(6), 1u);
  // 100 bytes for 100 ns.
  EXPECT_DOUBLE_EQ(a.live_byte_seconds(), 100 * 100e-9);
  // One timer sample per 100e-7 byte-seconds.
  EXPECT_NEAR(a.temperature(), 1 / (100 * 100e-9), 1e-3);
  const auto& b = SiteOf(p, 2);
  EXPECT_EQ(b.allocations(), 1u);
  EXPECT_EQ(b.bytes(), 50u);
  EXPECT_EQ(b.frees(), 0u);
  EXPECT_EQ(b.load_samples(), 0u);
  EXPECT_EQ(b.store_samples(), 1u);
  // B lives from 300 to the last event at 400.
  EXPECT_DOUBLE_EQ(b.live_byte_seconds(), 50 * 100e-9);
  EXPECT_EQ(p.metadata().total_samples(), 4u);
  EXPECT_EQ(p.metadata().heap_samples(), 2u);
  EXPECT_EQ(Region(p, "unknown"), 2u);  // below every module: the untracked heap
  EXPECT_EQ(p.metadata().unknown_frees(), 1u);
  EXPECT_EQ(p.metadata().duration_ns(), 300u);
  EXPECT_EQ(p.metadata().sampler(), "timer");
  EXPECT_NE(p.metadata().weighting().find("stall time"), std::string::npos);
  // Histograms: one bin per ~duration/200; the site's sample sits in the bin of t=150.
  const uint64_t bin = p.metadata().bin_ns();
  ASSERT_GT(a.histogram_size(), 0);
  EXPECT_EQ(a.histogram((150 - 100) / bin), 1u);
  EXPECT_EQ(a.live_histogram_size(), a.histogram_size());
  EXPECT_EQ(a.live_histogram(a.live_histogram_size() - 1), 0u);
  EXPECT_EQ(b.live_histogram(b.live_histogram_size() - 1), 50u);
}

// A site no sample hit has no sample histogram (readers take it for zeros); its live histogram
// still has every bin, and a sampled site's histogram every bin too.
TEST(Join, SitesNoSampleHitHaveNoSampleHistogram) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  t.Samples(2, {Load(150, 0x10010)});  // in A, site 1
  t.Allocs(1, {Alloc(100, 0x10000, 100, 1), Alloc(110, 0x20000, 64, 2), Free(400, 0x10000)});
  t.Close();
  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_FALSE(r.error) << r.error->Message();
  const auto& a = SiteOf(r.profile, 1);
  const auto& b = SiteOf(r.profile, 2);
  ASSERT_GT(a.histogram_size(), 1);
  EXPECT_EQ(a.live_histogram_size(), a.histogram_size());
  EXPECT_EQ(b.histogram_size(), 0);
  EXPECT_EQ(b.live_histogram_size(), a.histogram_size());
  EXPECT_EQ(b.live_histogram(b.live_histogram_size() - 1), 64u);  // never freed
  EXPECT_EQ(b.load_samples() + b.store_samples() + b.other_samples(), 0u);
}

// A recorded thread's stack lies among the mappings: a sample there is a stack access, not one in
// memory around the heap's blocks.
TEST(Join, SamplesOnARecordedThreadsStackAreStackNotMapping) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  constexpr uint64_t kLib = 0x7f0000000000, kStack = 0x7e0000000000;
  trace::TraceChunk chunk;
  auto* lib = chunk.add_module_maps()->add_modules();
  lib->set_path("/lib/libc.so.6");
  auto* seg = lib->add_segments();
  seg->set_start(kLib);
  seg->set_end(kLib + 0x100000);
  auto* thread = chunk.add_threads();
  thread->set_tid(2);
  thread->set_stack_lo(kStack);
  thread->set_stack_hi(kStack + 0x800000);
  t.Chunk(chunk);
  t.Samples(2, {Load(100, kStack + 0x1000), Load(110, kStack + 0x7fffff),
                Load(120, kStack + 0x800000), Load(130, kStack - 8)});
  t.Close();
  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_FALSE(r.error) << r.error->Message();
  EXPECT_EQ(Region(r.profile, "stack"), 2u);    // inside [lo, hi)
  EXPECT_EQ(Region(r.profile, "mapping"), 2u);  // just past either end
}

// A sample that hits no live block with its IP in the allocator's code (glibc's malloc functions
// in libc, any function of an allocator library) is the allocator touching its own memory:
// region "allocator", where the heap areas are concerned; the program's own IPs stay "mapping".
TEST(Join, SamplesOfTheAllocatorsOwnCodeAroundTheBlocksAreAllocator) {
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(libc, nullptr);
  void* libc_malloc = dlsym(libc, "malloc");  // libc's, not a sanitizer's interceptor
  Dl_info info;
  ASSERT_NE(dladdr(libc_malloc, &info), 0);
  const uint64_t malloc_vaddr =
      reinterpret_cast<uint64_t>(libc_malloc) - reinterpret_cast<uint64_t>(info.dli_fbase);
  constexpr uint64_t kLibc = 0x7e0000000000, kJemalloc = 0x7e1000000000;
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  trace::TraceChunk chunk;
  auto* maps = chunk.add_module_maps();
  auto add = [&](const std::string& path, uint64_t base) {
    auto* m = maps->add_modules();
    m->set_path(path);
    m->set_load_bias(base);
    auto* seg = m->add_segments();
    seg->set_start(base);
    seg->set_end(base + 0x400000);
    seg->set_executable(true);
  };
  add(info.dli_fname, kLibc);
  add("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", kJemalloc);
  t.Chunk(chunk);
  auto at = [](uint64_t time, uint64_t ip, uint64_t address) {
    formats::AccessSample s = Load(time, address);
    s.ip = ip;
    return s;
  };
  constexpr uint64_t kHeap = 0x10000000;  // between the modules: "mapping"
  t.Samples(1,
            {at(10, kLibc + malloc_vaddr + 1, kHeap), at(20, kJemalloc + 0x1234, kHeap + 64),
             at(30, kTextStart + 0x100, kHeap + 128), at(40, kLibc + malloc_vaddr + 1, kLibc + 8)});
  t.Close();
  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_FALSE(r.error) << r.error->Message();
  EXPECT_EQ(Region(r.profile, "allocator"), 2u);
  EXPECT_EQ(Region(r.profile, "mapping"), 1u);  // the program's own access
  EXPECT_EQ(Region(r.profile, "globals"), 1u);  // the allocator's globals stay globals
  EXPECT_TRUE(analyzer::AllocatorCode::IsMallocFunction("unlink_chunk.constprop.0"));
  EXPECT_TRUE(analyzer::AllocatorCode::IsMallocFunction("_int_malloc"));
  EXPECT_FALSE(analyzer::AllocatorCode::IsMallocFunction("memcpy"));
}

// A sample taken while the adaptive period was stretched 4x stands for four at the header's.
TEST(Join, SamplesAreWeightedByThePeriodTheyWereTakenAt) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  t.Allocs(1, {Alloc(10, 0x1000, 64, 1)});
  formats::AccessSample stretched = Load(30, 0x1010);
  stretched.period_shift = 2;
  t.Samples(1, {Load(20, 0x1008), stretched});
  t.Close();
  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(SiteOf(r.profile, 1).load_samples(), 5u);
  EXPECT_EQ(r.profile.metadata().heap_samples(), 2u);  // samples as recorded
}

TEST(Join, ReallocMovesTheBlock) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  t.Allocs(1, {Alloc(10, 0x1000, 16, 1), Free(20, 0x1000, trace::REALLOC_FREE),
               Alloc(20, 0x2000, 32, 2, trace::REALLOC)});
  t.Samples(1, {Load(25, 0x1008), Load(26, 0x2010), Load(27, 0x201f)});
  t.Close();
  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(SiteOf(r.profile, 1).load_samples(), 0u);  // the old block is gone
  EXPECT_EQ(SiteOf(r.profile, 1).frees(), 1u);
  EXPECT_EQ(SiteOf(r.profile, 2).load_samples(), 2u);
  EXPECT_EQ(SiteOf(r.profile, 2).bytes(), 32u);
  EXPECT_EQ(r.profile.metadata().heap_samples(), 2u);
}

// Thread 1's realloc gives 0x1000 back inside the allocator, and thread 2 is handed it within the
// same 64 ns tick: the recorder stamps the release before the real call, and at equal times the
// join must take the release first, whichever thread's batch comes first in the file.
TEST(Join, AtEqualTimesAReleaseGoesBeforeAnotherThreadsAllocationAtItsAddress) {
  for (const bool reuser_first : {true, false}) {
    SCOPED_TRACE(reuser_first ? "the reusing thread's batch first"
                              : "the releasing thread's first");
    TempDir dir;
    TraceBuilder t(dir.File("t"));
    const std::vector<formats::AllocEvent> releasing = {
        Alloc(100, 0x1000, 48, 1), Free(200, 0x1000, trace::REALLOC_FREE),
        Alloc(260, 0x8000, 4000, 3, trace::REALLOC)};
    const std::vector<formats::AllocEvent> reusing = {Alloc(200, 0x1000, 40, 2)};
    t.Allocs(reuser_first ? 2 : 1, reuser_first ? reusing : releasing);
    t.Allocs(reuser_first ? 1 : 2, reuser_first ? releasing : reusing);
    t.Samples(2, {Load(300, 0x1010)});
    t.Close();
    auto r = AnalyzeTrace(dir.File("t"));
    ASSERT_FALSE(r.error) << r.error->Message();
    const auto& reused = SiteOf(r.profile, 2);
    EXPECT_EQ(reused.load_samples(), 1u);
    EXPECT_EQ(reused.frees(), 0u);
    EXPECT_EQ(reused.live_histogram(reused.live_histogram_size() - 1), 40u);  // live at the end
    EXPECT_EQ(SiteOf(r.profile, 1).frees(), 1u);
    EXPECT_EQ(r.profile.metadata().unknown_frees(), 0u);
  }
}

// The frames handed out before the join (a symbolizer's head start) are named as the profile's
// sites name them, each once, and cut to the site depth.
TEST(Join, TheFramesGivenBeforeTheJoinAreTheSitesLocations) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  t.Allocs(1, {Alloc(10, 0x1000, 16, 1), Alloc(11, 0x2000, 16, 2), Alloc(12, 0x3000, 16, 3),
               Alloc(13, 0x4000, 16, 4)});
  t.Close();
  auto key = [](const profile::Location& l) {
    return l.module() + "|" + l.build_id() + "|" + std::to_string(l.offset());
  };
  for (const uint32_t depth : {0u, 1u}) {
    SCOPED_TRACE(depth);
    std::vector<std::string> given;
    analyzer::AnalyzeOptions options;
    options.site_depth = depth;
    options.on_frames = [&](std::vector<profile::Location> frames) {
      for (const auto& f : frames) given.push_back(key(f));
    };
    auto r = AnalyzeTrace(dir.File("t"), options);
    ASSERT_FALSE(r.error);
    std::vector<std::string> in_sites;
    for (const auto& site : r.profile.sites()) {
      for (const auto& loc : site.stack()) in_sites.push_back(key(loc));
    }
    std::sort(in_sites.begin(), in_sites.end());
    in_sites.erase(std::unique(in_sites.begin(), in_sites.end()), in_sites.end());
    std::sort(given.begin(), given.end());
    EXPECT_EQ(given, in_sites);
    EXPECT_EQ(given.size(), depth == 1 ? 4u : 5u);  // four sites, and their common caller
  }
}

TEST(Join, PartialMunmapSplitsAMapping) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  t.Allocs(1, {Alloc(10, 0x100000, 0x4000, 1, trace::MMAP),
               Free(20, 0x101000, trace::MUNMAP, 0x1000)});  // a hole in the middle
  t.Samples(1, {Load(30, 0x101800), Load(31, 0x102800), Load(32, 0x100800)});
  t.Allocs(1, {Free(40, 0x100000, trace::MUNMAP, 0x4000)});  // the rest, in one call
  t.Samples(1, {Load(50, 0x100800)});
  t.Close();
  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_FALSE(r.error);
  const auto& m = SiteOf(r.profile, 1);
  EXPECT_EQ(m.load_samples(), 2u);  // head and tail, not the hole, not after the unmap
  EXPECT_EQ(m.frees(), 1u);         // one mapping, gone once its last piece is
  EXPECT_EQ(m.peak_live_bytes(), 0x4000u);
  // 0x4000 B for 10 ns, then 0x3000 B for 20 ns.
  EXPECT_DOUBLE_EQ(m.live_byte_seconds(), (0x4000 * 10 + 0x3000 * 20) * 1e-9);
  EXPECT_EQ(r.profile.metadata().unknown_frees(), 0u);
}

TEST(Join, SampledAllocationsAreScaledByTheirProbability) {
  TempDir dir;
  TraceBuilder t(dir.File("t"), /*alloc_sample_bytes=*/1000);
  t.Allocs(1, {Alloc(10, 0x1000, 1000, 1), Alloc(11, 0x3000, 1000, 1)});
  t.Samples(1, {Load(20, 0x1010), Load(21, 0x3010), Store(22, 0x3020)});
  t.Close();
  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_FALSE(r.error);
  // Each byte is recorded with probability 1/1000: a 1000-byte block with 1 - 0.999^1000.
  const double p = 1 - std::pow(0.999, 1000);
  const auto& s = SiteOf(r.profile, 1);
  EXPECT_EQ(s.allocations(), static_cast<uint64_t>(std::llround(2 / p)));
  EXPECT_EQ(s.bytes(), static_cast<uint64_t>(std::llround(2000 / p)));
  // The samples on the recorded blocks stand for those on the blocks not recorded alike: the
  // site's samples per byte are the recorded blocks' (so the planner ranks it as it is).
  EXPECT_EQ(s.load_samples(), static_cast<uint64_t>(std::llround(2 / p)));
  EXPECT_EQ(s.store_samples(), static_cast<uint64_t>(std::llround(1 / p)));
  uint64_t histogram = 0;
  for (uint32_t h : s.histogram()) histogram += h;
  EXPECT_NEAR(double(histogram), 3 / p, 1.0);
  EXPECT_EQ(r.profile.metadata().alloc_sample_bytes(), 1000);
}

TEST(Join, SiteDepthGroupsByInnermostFrames) {
  TempDir dir;
  {
    formats::TraceWriter w(dir.File("t"));
    trace::TraceChunk c;
    for (uint32_t id = 1; id <= 2; ++id) {
      auto* s = c.add_stacks();
      s->set_id(id);
      s->add_frames(0x401000);
      s->add_frames(0x402000 + id);  // different callers
    }
    auto* batch = c.add_allocs();
    batch->set_tid(1);
    formats::AllocBatchBuilder b(batch);
    b.Add(Alloc(1, 0x1000, 8, 1));
    b.Add(Alloc(2, 0x2000, 8, 2));
    w.Append(c);
    w.Close();
  }
  EXPECT_EQ(AnalyzeTrace(dir.File("t")).profile.sites_size(), 2);
  analyzer::AnalyzeOptions depth1;
  depth1.site_depth = 1;
  auto r = AnalyzeTrace(dir.File("t"), depth1);
  ASSERT_EQ(r.profile.sites_size(), 1);
  EXPECT_EQ(r.profile.sites(0).allocations(), 2u);
  EXPECT_EQ(r.profile.sites(0).stack_size(), 1);
}

TEST(Join, StreamsWithDecodedEventsBoundedByTheBatchesInFlight) {
  // 2 threads x 200 batches of 500 allocator events (+ one sample per batch); thread 2's batches
  // are written one batch late, as a recorder flushing full buffers does. The merge must hold only
  // the batches it is in the middle of, not the 200,400 events of the trace.
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  constexpr int kBatches = 200, kPairs = 250;
  auto batch = [](uint32_t tid, int k) {
    std::vector<formats::AllocEvent> events;
    for (int j = 0; j < kPairs; ++j) {
      const uint64_t time = 1000 + uint64_t(k) * 4000 + uint64_t(j) * 8 + tid;
      const uint64_t address = tid * 0x100000 + uint64_t(j) * 64;
      events.push_back(Alloc(time, address, 64, tid));
      events.push_back(Free(time + 4, address));
    }
    return events;
  };
  // Each batch's first block is touched at the tick it is allocated.
  auto sample = [](uint32_t tid, int k) {
    return std::vector<formats::AccessSample>{
        Load(1000 + uint64_t(k) * 4000 + tid, tid * 0x100000)};
  };
  for (int k = 0; k < kBatches; ++k) {
    t.Allocs(1, batch(1, k));
    t.Samples(1, sample(1, k));
    if (k > 0) {
      t.Allocs(2, batch(2, k - 1));
      t.Samples(2, sample(2, k - 1));
    }
  }
  t.Allocs(2, batch(2, kBatches - 1));
  t.Samples(2, sample(2, kBatches - 1));
  t.Close();

  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_FALSE(r.error) << r.error->Message();
  constexpr uint64_t kEvents = 2 * kBatches * (2 * kPairs + 1);
  EXPECT_EQ(r.join.events, kEvents);
  // 4 streams (2 threads x allocator/sampler), each in the middle of at most one batch.
  EXPECT_LE(r.join.peak_decoded_events, 2 * (2 * kPairs) + 2);
  EXPECT_GE(r.join.peak_decoded_events, 2 * kPairs);  // the bound is not trivially met
  EXPECT_EQ(r.join.chunk_reads, 4u * kBatches);
  EXPECT_EQ(r.join.peak_live_blocks, 2u);  // each block is freed before the thread's next one
  for (uint32_t tid : {1u, 2u}) {
    const auto& site = SiteOf(r.profile, tid);
    EXPECT_EQ(site.allocations(), uint64_t(kBatches) * kPairs);
    EXPECT_EQ(site.frees(), uint64_t(kBatches) * kPairs);
    EXPECT_EQ(site.load_samples(), uint64_t(kBatches));
  }
  EXPECT_EQ(r.profile.metadata().heap_samples(), 2u * kBatches);
}

TEST(JoinErrors, TruncatedTraceKeepsCompleteChunks) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  t.Allocs(1, {Alloc(10, 0x1000, 16, 1)});
  t.Allocs(1, {Alloc(20, 0x2000, 16, 2)});
  t.Close();
  std::string bytes = ReadBytes(dir.File("t"));
  WriteBytes(dir.File("cut"), bytes.substr(0, bytes.size() - 5));
  auto r = AnalyzeTrace(dir.File("cut"));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, formats::FormatError::Kind::kTruncated);
  EXPECT_NE(r.error->Message().find(dir.File("cut")), std::string::npos);
  ASSERT_EQ(r.profile.sites_size(), 1);  // the first batch survived
  EXPECT_EQ(r.profile.sites(0).bytes(), 16u);
}

TEST(JoinErrors, DamagedBatchKeepsItsEventsBeforeTheDamageAndStopsTheTrace) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  t.Allocs(1, {Alloc(10, 0x1000, 16, 1)});
  t.Close();
  {
    // Append by hand: a batch whose size column is one short (its third event has no size),
    // then a sound chunk that must not be used since it follows the damage.
    formats::TraceWriter w(dir.File("tail"));
    trace::TraceChunk bad;
    auto* batch = bad.add_allocs();
    batch->set_tid(2);
    formats::AllocBatchBuilder b(batch);
    b.Add(Alloc(20, 0x2000, 16, 2));
    b.Add(Free(30, 0x2000));
    b.Add(Alloc(40, 0x3000, 16, 3));
    batch->mutable_size()->RemoveLast();
    w.Append(bad);
    trace::TraceChunk later;
    formats::AllocBatchBuilder l(later.add_allocs());
    l.Add(Alloc(50, 0x4000, 16, 4));
    w.Append(later);
    w.Close();
  }
  const std::string tail = ReadBytes(dir.File("tail"));
  WriteBytes(dir.File("t"), ReadBytes(dir.File("t")) + tail.substr(formats::kFileHeaderSize));

  auto r = AnalyzeTrace(dir.File("t"));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, formats::FormatError::Kind::kCorrupt);
  EXPECT_NE(r.error->Message().find("alloc batch of thread 2: alloc batch size column is short"),
            std::string::npos)
      << r.error->Message();
  EXPECT_EQ(r.join.events, 3u);  // stack 1's alloc, then stack 2's alloc and free
  ASSERT_EQ(r.profile.sites_size(), 2);
  EXPECT_EQ(SiteOf(r.profile, 1).allocations(), 1u);
  EXPECT_EQ(SiteOf(r.profile, 2).allocations(), 1u);
  EXPECT_EQ(SiteOf(r.profile, 2).frees(), 1u);
}

TEST(JoinErrors, EmptyAndWrongKindFilesAreNamed) {
  TempDir dir;
  WriteBytes(dir.File("empty"), "");
  auto e = AnalyzeTrace(dir.File("empty"));
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->kind, formats::FormatError::Kind::kEmpty);
  formats::WriteProfile(dir.File("p"), profile::ProfileChunk());
  auto w = AnalyzeTrace(dir.File("p"));
  ASSERT_TRUE(w.error);
  EXPECT_EQ(w.error->kind, formats::FormatError::Kind::kWrongKind);
  EXPECT_NE(w.error->Message().find("not a trace"), std::string::npos) << w.error->Message();
}

TEST(JoinErrors, CancelStopsTheAnalysis) {
  TempDir dir;
  TraceBuilder t(dir.File("t"));
  t.Allocs(1, {Alloc(10, 0x1000, 16, 1)});
  t.Close();
  std::atomic<bool> cancel{true};
  analyzer::AnalyzeOptions o;
  o.cancel = &cancel;
  EXPECT_TRUE(AnalyzeTrace(dir.File("t"), o).cancelled);
}

}  // namespace
}  // namespace tierscope::testing
