// Join throughput: writes a synthetic trace (2 threads, address reuse, one access sample per 16
// allocator events, thread batches out of time order), then times `AnalyzeTrace` on it.
//   join_bench [EVENTS] [TRACE_PATH]      (default 100M events, /tmp/tierscope-join-bench.trace)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tierscope/analyzer/analyze.h"
#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"
#include "tierscope/formats/trace_io.h"

using namespace tierscope;

namespace {

constexpr int kBatch = 1 << 16;
constexpr uint32_t kStacks = 256;
constexpr uint64_t kSlots = 4096;  // live blocks per thread

struct ThreadGen {
  uint32_t tid;
  uint64_t base;
  uint64_t time = 1000;
  uint64_t next = 0;  // allocations so far
  uint64_t rng;
  uint64_t Rand() {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  }
  // One chunk: kBatch allocator events plus kBatch/16 samples.
  trace::TraceChunk Chunk() {
    trace::TraceChunk chunk;
    auto* allocs = chunk.add_allocs();
    allocs->set_tid(tid);
    auto* samples = chunk.add_samples();
    samples->set_tid(tid);
    samples->set_source(trace::SAMPLER_TIMER);
    formats::AllocBatchBuilder ab(allocs);
    formats::SampleBatchBuilder sb(samples, false);
    for (int i = 0; i < kBatch; i += 2) {
      const uint64_t slot = next % kSlots;
      const uint64_t address = base + slot * 8192;
      time += 1 + Rand() % 50;
      if (next >= kSlots) ab.Add({time, trace::FREE, address, 0, 0});
      time += 1 + Rand() % 50;
      ab.Add({time, trace::MALLOC, address, 16 + Rand() % 4096, uint32_t(1 + next % kStacks)});
      ++next;
      if (i % 16 == 0) {
        sb.Add({time + 1, 0x401000, base + (Rand() % kSlots) * 8192 + 8, trace::ACCESS_LOAD, 1, 0});
      }
    }
    sb.Finish();
    return chunk;
  }
};

// CPU time of this process: the machine is shared, so wall time says little about the code.
double CpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000'000;
  const std::string path = argc > 2 ? argv[2] : "/tmp/tierscope-join-bench.trace";
  auto start = std::chrono::steady_clock::now();
  {
    formats::TraceWriter writer(path);
    trace::TraceChunk head;
    head.mutable_header()->set_pid(1);
    auto* module = head.add_module_maps()->add_modules();
    module->set_path("/bin/bench");
    auto* seg = module->add_segments();
    seg->set_start(0x400000);
    seg->set_end(0x500000);
    for (uint32_t id = 1; id <= kStacks; ++id) {
      auto* s = head.add_stacks();
      s->set_id(id);
      s->add_frames(0x400000 + id * 16);
      s->add_frames(0x400800);
    }
    writer.Append(head);
    ThreadGen a{1, 0x10000000, 1000, 0, 0x9e3779b97f4a7c15ull};
    ThreadGen b{2, 0x20000000, 1000, 0, 0xbf58476d1ce4e5b9ull};
    uint64_t written = 0;
    trace::TraceChunk pending = b.Chunk();  // thread 2 is flushed one batch late
    while (written < events) {
      writer.Append(a.Chunk());
      trace::TraceChunk next = b.Chunk();
      writer.Append(pending);
      pending = std::move(next);
      written += 2 * (kBatch + kBatch / 16);
    }
    writer.Close();
    std::printf("wrote %llu events in %.1f s (%.2f bytes/event)\n",
                static_cast<unsigned long long>(written), Seconds(start),
                double(writer.bytes_written()) / double(written));
  }
  start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  auto result = analyzer::AnalyzeTrace(path);
  const double s = Seconds(start);
  const double cpu = CpuSeconds() - cpu_start;
  if (result.error) {
    std::fprintf(stderr, "join_bench: %s\n", result.error->Message().c_str());
    return 1;
  }
  const auto& m = result.profile.metadata();
  const uint64_t joined = m.alloc_events() + m.free_events() + m.total_samples();
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "analyzed %llu events (%d sites, %llu heap samples) in %.2f s wall, %.2f s CPU: "
      "%.1f M events/s wall, %.1f M events per CPU-second, peak RSS %.0f MiB\n",
      static_cast<unsigned long long>(joined), result.profile.sites_size(),
      static_cast<unsigned long long>(m.heap_samples()), s, cpu, double(joined) / s / 1e6,
      double(joined) / cpu / 1e6, double(usage.ru_maxrss) / 1024);
  return 0;
}
