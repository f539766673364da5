// Many threads through the placer's concurrent paths at once: site identification (lock-free
// cache hits, misses resolved under the try-lock, the cache cleared as after a dlclose), tier
// allocation through the budget guard with fallback, the hint API, mapping charges against the
// same budget, the table of placed mappings, and thread exit (tcaches destroyed, counter blocks
// handed on). In every build the counts must add up; built with TIERSCOPE_TSAN (placer/README.md)
// ThreadSanitizer checks the synchronization of all of it. The allocated memory is never touched:
// jemalloc is not instrumented, so TSan cannot see it hand a block from one thread to another.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "allocation_path.h"
#include "tierscope/placer.h"
#include "tierscope/placer/tier_spec.h"

namespace tierscope::placer {

void InitThreadMachinery(ThreadCounters* blocks);  // allocation_slow_path.cc
ThreadCounters* CounterBlocks(size_t* count);
ThreadCounters& SharedCounters();

// hint_api.cc resolves names through startup.cc, which reads the environment; not linked here.
int TierByName(const char* name) {
  if (name && std::strcmp(name, "fast") == 0) return 0;
  if (name && std::strcmp(name, "slow") == 0) return 1;
  return kDefaultTier;
}

namespace {

constexpr int kThreads = 8;
constexpr int kWaves = 2;  // the second wave reuses the first one's counter blocks and tcaches
constexpr int kIterations = 20000;
constexpr int kSites = 64;
constexpr int kRing = 64;
constexpr int kHintsKept = 32;
constexpr size_t kHintBytes = 256 << 10;

struct Totals {
  uint64_t allocs[kMaxTiers] = {}, fallbacks[kMaxTiers] = {}, hints[kMaxTiers] = {};
  uint64_t plan_hits = 0, unknown = 0, to_default = 0, misses = 0;
};

Totals Sum() {
  Totals t;
  auto add = [&](const ThreadCounters& c) {
    for (int i = 0; i < kMaxTiers; ++i) {
      t.allocs[i] += c.allocs[i].load(std::memory_order_relaxed);
      t.fallbacks[i] += c.fallbacks[i].load(std::memory_order_relaxed);
      t.hints[i] += c.hints[i].load(std::memory_order_relaxed);
    }
    t.plan_hits += c.plan_hits.load(std::memory_order_relaxed);
    t.unknown += c.unknown_sites.load(std::memory_order_relaxed);
    t.to_default += c.to_default.load(std::memory_order_relaxed);
    t.misses += c.cache_misses.load(std::memory_order_relaxed);
  };
  size_t count = 0;
  ThreadCounters* blocks = CounterBlocks(&count);
  for (size_t i = 0; i < count; ++i) add(blocks[i]);
  add(SharedCounters());
  return t;
}

// Fake call sites: addresses inside this program's text, so the module table translates them.
__attribute__((noinline)) void SiteAnchor() {
  asm volatile("");
}
void* SiteAddress(int site) {
  return reinterpret_cast<char*>(&SiteAnchor) + site * 4;
}

// Sites 0-15 are planned fast, 16-31 slow, the rest unknown (sent to the slow tier).
void SetUpPlacer() {
  static bool ready = false;
  if (ready) return;
  ready = true;
  InitThreadMachinery(MapArray<ThreadCounters>(4096));
  ASSERT_TRUE(g_state.cache.Init(false));
  ASSERT_TRUE(g_state.keys.Init(kSites));
  ASSERT_TRUE(g_state.modules.Init());
  ASSERT_TRUE(g_state.maps.Init());
  g_state.modules.RefreshIfChanged();
  std::string error;
  ASSERT_TRUE(g_state.arenas.Create(*ParseTierSpec("fast=node:0,capacity=8M;slow=node:0", &error),
                                    &error, 2))
      << error;
  g_state.tiers_ready = true;
  g_state.depth = 1;
  g_state.unknown_tier = 1;
  for (int site = 0; site < 32; ++site) {
    ModuleOffset key = g_state.modules.Translate(reinterpret_cast<uintptr_t>(SiteAddress(site)));
    ASSERT_NE(key.identity, 0u);
    g_state.keys.Add(HashKey(&key, 1), site < 16 ? 1 : 2);
  }
  g_state.routing.store(true);
}

struct Work {
  std::atomic<uint64_t> identified{0}, tier_allocs{0}, hints{0}, charged{0};
  std::atomic<uint64_t> misplaced{0};  // a block for tier t not on t or a slower tier
};

void Worker(int id, Work* work) {
  void* ring[kRing] = {};
  void* kept[kHintsKept] = {};
  int kept_count = 0;
  uint64_t identified = 0, tier_allocs = 0, hints = 0, charged = 0;
  for (int i = 0; i < kIterations; ++i) {
    const int site = (i * 7 + id) % kSites;
    const size_t size = 16 + (i % 512);
    const int tier = TierForSite(size, SiteAddress(site), nullptr);
    ++identified;
    void* p;
    if (tier >= 0) {
      p = TierAlloc(tier, size, 0);
      ++tier_allocs;
      if (g_state.arenas.TierOf(p) < tier) ++work->misplaced;
    } else {
      p = mallocx(size, 0);
    }
    ASSERT_NE(p, nullptr);
    void*& slot = ring[i % kRing];
    if (slot) ReleaseBlock(slot);
    slot = p;
    if (i % 500 == 0 && kept_count < kHintsKept) {
      // Big hot hints that stay: together they overfill the fast tier's budget.
      kept[kept_count++] = ts_malloc_hot(kHintBytes);
      void* cold = ts_malloc_cold(4096);
      void* named = ts_malloc_tier("slow", 4096);
      ts_free(cold);
      ts_free(named);
      hints += 3;
    }
    if (i % 50 == 0) {
      // A placed mapping's life (mmap_placement.cc): registered, then unmapped, under the table
      // lock; empty() is read without it, as munmap does. Ranges are per thread, never overlapping.
      const uintptr_t start = (uintptr_t{1} << 40) + (uintptr_t(id) << 32) + uintptr_t(i) * 4096;
      {
        MappedRangesLock lock(g_state.maps);
        g_state.maps.Add(start, 4096, 1);
      }
      if (!g_state.maps.empty()) {
        uint64_t released[kMaxTiers] = {};
        MappedRangesLock lock(g_state.maps);
        g_state.maps.Remove(start, 4096, released);
        if (released[1] != 4096) ++work->misplaced;
      }
    }
    if (i % 100 == 0 && g_state.arenas.Charge(0, 64 << 10)) {
      ++charged;
      g_state.arenas.Release(0, 64 << 10);
    }
    if (id == 0 && i % 2000 == 0) {
      // What ResolveMiss does after a dlclose: clear the cache under the miss lock.
      bool expected = false;
      if (g_state.miss_lock.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        g_state.cache.Clear();
        g_state.miss_lock.store(false, std::memory_order_release);
      }
    }
  }
  for (void* p : ring) {
    if (p) ReleaseBlock(p);
  }
  for (int k = 0; k < kept_count; ++k) ts_free(kept[k]);
  work->identified += identified;
  work->tier_allocs += tier_allocs;
  work->hints += hints;
  work->charged += charged;
}

void RunAndCheck() {
  const Totals before = Sum();
  Work work;
  for (int wave = 0; wave < kWaves; ++wave) {
    std::vector<std::thread> threads;
    for (int id = 0; id < kThreads; ++id) threads.emplace_back(Worker, id, &work);
    for (auto& t : threads) t.join();
  }
  const Totals after = Sum();

  // Every identification is a plan hit or an unknown site (a busy miss counts as unknown).
  EXPECT_EQ((after.plan_hits - before.plan_hits) + (after.unknown - before.unknown),
            work.identified.load());
  // Every planned site is a hit, at least once per thread; 32 of the 64 sites are unplanned.
  EXPECT_GT(after.plan_hits - before.plan_hits, 0u);
  EXPECT_GT(after.misses - before.misses, 0u);
  // Every tier allocation (sites and hints) landed on a tier or, past every budget, on the
  // default arenas; nothing is lost or double-counted.
  uint64_t placed = 0;
  for (int t = 0; t < g_state.arenas.count(); ++t) placed += after.allocs[t] - before.allocs[t];
  EXPECT_EQ(placed + (after.to_default - before.to_default),
            work.tier_allocs.load() + work.hints.load());
  EXPECT_EQ((after.hints[0] - before.hints[0]) + (after.hints[1] - before.hints[1]),
            work.hints.load());
  // The hot hints overfilled the fast tier: the guard refused and the rest went to slow.
  EXPECT_GT(after.fallbacks[0] - before.fallbacks[0], 0u);
  EXPECT_GT(g_state.arenas.slice(0).refused.load(), 0u);
  EXPECT_LE(g_state.arenas.used_bytes(0), g_state.arenas.slice(0).budget.load());
  // (Charges may all be refused once an earlier test filled the tier's address space: the budget
  // counts address space handed out, which never shrinks.) What was charged was given back:
  EXPECT_EQ(g_state.arenas.slice(0).mapped.load(), 0u);  // every charge was released
  EXPECT_EQ(work.misplaced.load(), 0u);
  EXPECT_TRUE(g_state.maps.empty());
}

// The default walk from an entry point of the placer's kind (this function keeps its frame
// pointer: tests/placer/CMakeLists.txt).
__attribute__((noinline)) int WalkFromHere(uint64_t* frames) {
  return CollectFrames(__builtin_return_address(0), __builtin_frame_address(0), frames);
}

__attribute__((noinline)) int WalkThroughACaller(uint64_t* frames, int extra) {
  const int n = extra > 0 ? WalkThroughACaller(frames, extra - 1) : WalkFromHere(frames);
  asm volatile("" ::: "memory");  // not a tail call
  return n;
}

// Threads walk by the shared rule table while one of them clears it (what a dlclose does): each
// walk from the same place finds the same frames, whether its rules came from the thread's last
// walk, its recent rules, the shared table or the module's tables.
TEST(PlacerConcurrency, WalksByTheSharedRulesAgreeWhileTheTableIsCleared) {
  SetUpPlacer();
  ASSERT_TRUE(g_state.rules.Init());
  g_state.depth = kMaxDepth;
  g_state.unwinder = Unwinder::kAuto;
  std::atomic<uint64_t> walks{0}, differing{0};
  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; ++id) {
    threads.emplace_back([id, &walks, &differing] {
      uint64_t first[kMaxDepth], frames[kMaxDepth];
      int n = 0;
      for (int i = 0; i < kIterations; ++i) {
        const int m = WalkThroughACaller(frames, id % 3);  // one call site: the same stack
        if (i == 0) {
          n = m;
          std::copy(frames, frames + n, first);
        } else if (m != n || !std::equal(frames, frames + n, first)) {
          ++differing;
        }
        ++walks;
        if (id == 0 && i % 1000 == 0) g_state.rules.Clear();
      }
    });
  }
  for (auto& t : threads) t.join();
  g_state.depth = 1;
  g_state.unwinder = Unwinder::kFramePointers;
  EXPECT_EQ(walks.load(), uint64_t{kThreads} * kIterations);
  EXPECT_EQ(differing.load(), 0u);
}

TEST(PlacerConcurrency, ManyThreadsAgreeOnSitesTiersBudgetsAndCounts) {
  SetUpPlacer();
  RunAndCheck();
}

// The same with the budgeted fast tier as the primary placement: its blocks come from jemalloc's
// automatic tcache, each thread's arena switched to one of the tier's; the other placements name
// their tcaches, and no block ever comes back from the wrong cache.
TEST(PlacerConcurrency, ThePrimaryPlacementThroughJemallocsOwnCacheStaysOnItsTier) {
  SetUpPlacer();
  g_state.primary_plus1 = 1;
  RunAndCheck();
  g_state.primary_plus1 = 0;
}

}  // namespace
}  // namespace tierscope::placer
