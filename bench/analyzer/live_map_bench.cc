// The join's hot path on its own: LiveMap operations on the address sequence of a malloc-heavy
// thread (ts-example-stress's pattern: 16..4096 B, a ring of live blocks, the rest freed at
// once), recorded once from the real allocator so that addresses are reused as glibc reuses
// them; and lookups of access samples in the resulting live set.
//   build/release/bench/analyzer/live_map_bench [--benchmark_repetitions=5 ...]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "join/live_map.h"

namespace tierscope::analyzer {
namespace {

struct Op {
  uint64_t address;
  uint64_t size;  // 0: a free
};

// Allocates and frees for real; returns the events as the join would see them.
std::vector<Op> StressOps(size_t ops, size_t ring) {
  std::mt19937_64 rng(1);
  std::vector<void*> live(ring, nullptr);
  std::vector<Op> out;
  out.reserve(2 * ops);
  size_t pos = 0;
  for (size_t i = 0; i < ops; ++i) {
    const size_t size = 16 + rng() % 4081;
    void* p = std::malloc(size);
    out.push_back({reinterpret_cast<uint64_t>(p), size});
    if (rng() & 1) {
      if (live[pos]) {
        out.push_back({reinterpret_cast<uint64_t>(live[pos]), 0});
        std::free(live[pos]);
      }
      live[pos] = p;
      pos = (pos + 1) % ring;
    } else {
      out.push_back({reinterpret_cast<uint64_t>(p), 0});
      std::free(p);
    }
  }
  for (void* p : live) std::free(p);
  return out;
}

const std::vector<Op>& Ops() {
  static const std::vector<Op> ops = StressOps(1 << 20, 1024);
  return ops;
}

void BM_LiveMapStressReplay(benchmark::State& state) {
  const std::vector<Op>& ops = Ops();
  const LiveMap::OnRemoved ignore = [](uint64_t, uint64_t, const LiveBlock&) {};
  for (auto _ : state) {
    LiveMap map;
    uint64_t serial = 0;
    for (const Op& op : ops) {
      if (op.size) {
        LiveBlock b;
        b.end = op.address + op.size;
        b.serial = ++serial;
        map.Insert(op.address, b, ignore);
      } else {
        LiveBlock gone;
        benchmark::DoNotOptimize(map.Erase(op.address, &gone));
      }
    }
    benchmark::DoNotOptimize(map.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ops.size()));
}
BENCHMARK(BM_LiveMapStressReplay)->Unit(benchmark::kMillisecond);

void BM_LiveMapFind(benchmark::State& state) {
  const std::vector<Op>& ops = Ops();
  const LiveMap::OnRemoved ignore = [](uint64_t, uint64_t, const LiveBlock&) {};
  LiveMap map;
  std::vector<uint64_t> probes;
  for (size_t i = 0; i < ops.size() / 2; ++i) {  // the live set half way through
    const Op& op = ops[i];
    if (op.size) {
      LiveBlock b;
      b.end = op.address + op.size;
      map.Insert(op.address, b, ignore);
      probes.push_back(op.address + op.size / 2);
    } else {
      LiveBlock gone;
      map.Erase(op.address, &gone);
    }
  }
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    hits += map.Find(probes[i]) != nullptr;
    if (++i == probes.size()) i = 0;
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_LiveMapFind);

}  // namespace
}  // namespace tierscope::analyzer

BENCHMARK_MAIN();
