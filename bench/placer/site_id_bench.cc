// Per-allocation cost of the placer's hot path, piece by piece: site identification (stack walk +
// hash + lock-free cache lookup, a hit), and a tier arena allocation through the thread's tier
// tcache, next to plain jemalloc. Run: build/release/bench/placer/placer_site_id_bench
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include "allocation_path.h"
#include "tierscope/placer/tier_spec.h"

using namespace tierscope::placer;

namespace tierscope::placer {
void InitThreadMachinery(ThreadCounters* blocks);  // allocation_slow_path.cc
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
    ReleaseBlock(p);
  }
}
BENCHMARK(BM_TierAllocFree);

// The same on the primary placement: jemalloc's own malloc/free fast paths, the thread's arena
// switched to the tier's (what the preloaded placer does for the placement most allocations get).
void BM_TierAllocFreePrimary(benchmark::State& state) {
  SetUp(1, Unwinder::kFramePointers);
  void* jemalloc = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
  if (jemalloc) {
    g_state.je_malloc = reinterpret_cast<void* (*)(size_t)>(dlsym(jemalloc, "malloc"));
    g_state.je_free = reinterpret_cast<void (*)(void*)>(dlsym(jemalloc, "free"));
  }
  if (!g_state.je_malloc || !g_state.je_free) {
    state.SkipWithError("jemalloc's malloc/free not found");
    return;
  }
  g_state.primary_plus1 = 2;  // tier 1
  for (auto _ : state) {
    void* p = TierAlloc(1, 64, 0);
    benchmark::DoNotOptimize(p);
    ReleaseBlock(p);
  }
  if (g_state.arenas.TierOf(TierAlloc(1, 64, 0)) != 1) state.SkipWithError("not on tier 1");
  g_state.primary_plus1 = 0;
}
BENCHMARK(BM_TierAllocFreePrimary);

// jemalloc's malloc + free fast path, for scale.
void BM_JemallocMallocFree(benchmark::State& state) {
  void* jemalloc = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
  auto m = jemalloc ? reinterpret_cast<void* (*)(size_t)>(dlsym(jemalloc, "malloc")) : nullptr;
  auto f = jemalloc ? reinterpret_cast<void (*)(void*)>(dlsym(jemalloc, "free")) : nullptr;
  if (!m || !f) {
    state.SkipWithError("jemalloc's malloc/free not found");
    return;
  }
  for (auto _ : state) {
    void* p = m(64);
    benchmark::DoNotOptimize(p);
    f(p);
  }
}
BENCHMARK(BM_JemallocMallocFree);

}  // namespace

BENCHMARK_MAIN();
