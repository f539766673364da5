// The recorder's hot path piece by piece (unwind, stack dedup, buffer append) and whole
// (malloc+free through the hooks: run this binary under `tierscope record` and compare
// BM_MallocFree with a plain run; bench/record_overhead.sh does both).
#define UNW_LOCAL_ONLY
#include <benchmark/benchmark.h>
#include <libunwind.h>

#include <cstdlib>

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
