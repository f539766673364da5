// Per-allocation cost of the placer's hot path, piece by piece: site identification (stack walk +
// hash + lock-free cache lookup, a hit), and a tier arena allocation through the thread's tier
// tcache, next to plain jemalloc. Run: build/release/bench/placer/placer_site_id_bench
#include <benchmark/benchmark.h>

#include "runtime.h"
#include "tierscope/placer/tier_spec.h"

using namespace tierscope::placer;

namespace tierscope::placer {
void InitThreadMachinery(ThreadCounters* blocks);  // runtime.cc
}

namespace {

// A call chain deep enough for every depth measured; noinline keeps each frame real.
template <int N>
__attribute__((noinline)) int Identify(benchmark::State& state) {
  if constexpr (N > 0) {
    const int r = Identify<N - 1>(state);
    benchmark::DoNotOptimize(r);
    return r;
  } else {
    int tier = 0;
    for (auto _ : state) {
      tier = TierForSite(64, __builtin_return_address(0), __builtin_frame_address(0));
      benchmark::DoNotOptimize(tier);
    }
    return tier;
  }
}

void SetUp(int depth, Unwinder unwinder) {
  static bool ready = false;
  if (!ready) {
    InitThreadMachinery(MapArray<ThreadCounters>(4096));  // per-thread counters, as preloaded
    g_state.cache.Init(false);
    g_state.keys.Init(16);
    g_state.modules.Init();
    g_state.modules.RefreshIfChanged();
    std::string error;
    g_state.arenas.Create(*ParseTierSpec("fast=node:0;slow=node:0", &error), &error);
    g_state.tiers_ready = true;
    ready = true;
  }
  g_state.depth = depth;
  g_state.unwinder = unwinder;
  g_state.cache.Clear();
}

void BM_IdentifySiteHit(benchmark::State& state) {
  SetUp(static_cast<int>(state.range(0)), Unwinder::kFramePointers);
  Identify<10>(state);
}
BENCHMARK(BM_IdentifySiteHit)->Arg(1)->Arg(2)->Arg(4)->Arg(8);

void BM_IdentifySiteHitLibunwind(benchmark::State& state) {
  SetUp(static_cast<int>(state.range(0)), Unwinder::kLibunwind);
  Identify<10>(state);
}
BENCHMARK(BM_IdentifySiteHitLibunwind)->Arg(2)->Arg(4);

void BM_JemallocMallocxDallocx(benchmark::State& state) {
  for (auto _ : state) {
    void* p = mallocx(64, 0);
    benchmark::DoNotOptimize(p);
    dallocx(p, 0);
  }
}
BENCHMARK(BM_JemallocMallocxDallocx);

// jemalloc alone with the flags a tier allocation uses: explicit arena + explicit tcache.
void BM_JemallocArenaTcache(benchmark::State& state) {
  SetUp(1, Unwinder::kFramePointers);
  const int flags = MALLOCX_ARENA(g_state.arenas.arena(1)) | TcacheFlags(1);
  for (auto _ : state) {
    void* p = mallocx(64, flags);
    benchmark::DoNotOptimize(p);
    dallocx(p, TcacheFlags(1));
  }
}
BENCHMARK(BM_JemallocArenaTcache);

void BM_TierAllocFree(benchmark::State& state) {
  SetUp(1, Unwinder::kFramePointers);
  for (auto _ : state) {
    void* p = TierAlloc(1, 64, 0);
    benchmark::DoNotOptimize(p);
    dallocx(p, FlagsForPointer(p));
  }
}
BENCHMARK(BM_TierAllocFree);

}  // namespace

BENCHMARK_MAIN();
