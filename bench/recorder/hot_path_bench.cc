// The recorder's hot path piece by piece (unwind, stack dedup, buffer append) and whole
// (malloc+free through the hooks: run this binary under `tierscope record` and compare
// BM_MallocFree with a plain run; bench/record_overhead.sh does both).
#define UNW_LOCAL_ONLY
#include <benchmark/benchmark.h>
#include <libunwind.h>

#include <cstdlib>
#include <vector>

#include "runtime/address_set.h"
#include "runtime/event_buffer.h"
#include "runtime/stack_table.h"

namespace tierscope::recorder {
namespace {

// Recursion to a given depth, then `leaf` runs: gives unwinding a real stack of that depth.
template <typename F>
__attribute__((noinline)) void AtDepth(int depth, F& leaf) {
  if (depth <= 1) {
    leaf();
  } else {
    AtDepth(depth - 1, leaf);
  }
  benchmark::ClobberMemory();
}

void BM_UnwBacktrace(benchmark::State& state) {
  void* frames[64];
  auto leaf = [&] {
    for (auto _ : state) benchmark::DoNotOptimize(unw_backtrace(frames, 40));
  };
  AtDepth(static_cast<int>(state.range(0)), leaf);
}
BENCHMARK(BM_UnwBacktrace)->Arg(1)->Arg(16);

void BM_StackTableInternExisting(benchmark::State& state) {
  StackTable table;
  table.Init(1 << 16, 1 << 20);
  uint64_t frames[32];
  for (int i = 0; i < 32; ++i) frames[i] = 0x401000 + 16 * i;
  const auto depth = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(table.Intern(frames, depth, false));
}
BENCHMARK(BM_StackTableInternExisting)->Arg(4)->Arg(32);

void BM_BufferAppendAndHandOff(benchmark::State& state) {
  BufferPool pool;
  pool.Init(64 << 10, 4 << 20);
  EventBuffer* b = pool.Acquire(1);
  uint64_t i = 0;
  for (auto _ : state) {
    const uint32_t n = b->count.load(std::memory_order_relaxed);
    b->events[n] = RawEvent{i, i * 64, 32, 1, 1};
    b->count.store(n + 1, std::memory_order_release);
    if (n + 1 == b->capacity) {  // what the writer would do, inline
      pool.PushFull(b);
      for (EventBuffer* f = pool.TakeAllFull(); f != nullptr; f = f->next_full) pool.Release(f);
      b = pool.Acquire(1);
    }
    ++i;
  }
}
BENCHMARK(BM_BufferAppendAndHandOff);

// Sampled mode: the filter check of each release (nearly all say "not sampled") while the program
// works through its own data. Releases of a 32 MiB heap in shuffled order, each followed by
// reads of a working set of range(0) KiB (a power of two) (the program's), which competes with the
// filter for the core's cache. 64 blocks are held, as after a while of --alloc-sample-bytes 524288.
void BM_ReleaseFilter(benchmark::State& state) {
  constexpr uint64_t kBase = 0x7f0000000000, kHeap = uint64_t{32} << 20;
  AddressSet set;
  set.Init(size_t{1} << 20);
  for (uint64_t i = 0; i < 64; ++i) set.Insert(kBase + i * (kHeap / 64));
  std::vector<uint64_t> releases(size_t{1} << 16);
  uint64_t x = 88172645463325252ull;  // xorshift: a fixed shuffled order
  for (uint64_t& a : releases) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    a = kBase + (x % kHeap & ~uint64_t{15});
  }
  std::vector<uint64_t> work(static_cast<size_t>(state.range(0)) * 1024 / sizeof(uint64_t), 1);
  size_t r = 0, w = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    sum += set.MaybeHeld(releases[r]);
    r = (r + 1) & (releases.size() - 1);
    for (int k = 0; k < 4; ++k) {  // 4 lines of the program's data per release
      sum += work[w];
      w = (w + 8 * 97) & (work.size() - 1);
    }
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_ReleaseFilter)->Arg(64)->Arg(512)->Arg(4096);

// Whole hook when preloaded (plain malloc otherwise), frames[0] `depth` calls deep.
void BM_MallocFree(benchmark::State& state) {
  auto leaf = [&] {
    for (auto _ : state) {
      void* p = std::malloc(64);
      benchmark::DoNotOptimize(p);
      std::free(p);
    }
  };
  AtDepth(static_cast<int>(state.range(0)), leaf);
}
BENCHMARK(BM_MallocFree)->Arg(1)->Arg(16);

}  // namespace
}  // namespace tierscope::recorder

BENCHMARK_MAIN();
