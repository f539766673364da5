// Builds small traces by hand for the analyzer's tests: one module, a few stacks, per-thread
// alloc and sample batches written in whatever order the test wants.
#pragma once

#include <string>
#include <vector>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::testing {

inline constexpr uint64_t kTextStart = 0x400000, kTextEnd = 0x500000;

class TraceBuilder {
 public:
  explicit TraceBuilder(const std::string& path, uint64_t alloc_sample_bytes = 0) : writer_(path) {
    trace::TraceChunk chunk;
    auto* h = chunk.mutable_header();
    h->set_pid(77);
    h->set_executable("/bin/prog");
    h->mutable_recorder()->set_alloc_sample_bytes(alloc_sample_bytes);
    auto* sampler = h->add_samplers();
    sampler->set_kind(trace::SAMPLER_TIMER);
    sampler->set_period(1000000);
    auto* module = chunk.add_module_maps()->add_modules();
    module->set_path("/bin/prog");
    module->set_build_id("\xab\xcd");
    module->set_load_bias(0);
    auto* seg = module->add_segments();
    seg->set_start(kTextStart);
    seg->set_end(kTextEnd);
    seg->set_executable(true);
    for (uint32_t id = 1; id <= 4; ++id) {
      auto* s = chunk.add_stacks();
      s->set_id(id);
      s->add_frames(kTextStart + 0x1000 * id);  // stacks 1..4: distinct sites
      s->add_frames(kTextStart + 0x100);        // a common caller
    }
    writer_.Append(chunk);
  }

  // Appends one chunk holding one alloc batch of `tid`.
  void Allocs(uint32_t tid, const std::vector<formats::AllocEvent>& events) {
    trace::TraceChunk chunk;
    auto* batch = chunk.add_allocs();
    batch->set_tid(tid);
    formats::AllocBatchBuilder b(batch);
    for (const auto& e : events) b.Add(e);
    writer_.Append(chunk);
  }
  void Samples(uint32_t tid, const std::vector<formats::AccessSample>& samples) {
    trace::TraceChunk chunk;
    auto* batch = chunk.add_samples();
    batch->set_tid(tid);
    batch->set_source(trace::SAMPLER_TIMER);
    formats::SampleBatchBuilder b(batch, false);
    for (const auto& s : samples) b.Add(s);
    b.Finish();
    writer_.Append(chunk);
  }
  // Appends one chunk as it is (module maps, threads, ...).
  void Chunk(const trace::TraceChunk& chunk) { writer_.Append(chunk); }
  void Close() { writer_.Close(); }

 private:
  formats::TraceWriter writer_;
};

inline formats::AllocEvent Alloc(uint64_t t, uint64_t addr, uint64_t size, uint32_t stack,
                                 trace::EventKind kind = trace::MALLOC) {
  return {t, kind, addr, size, stack};
}
inline formats::AllocEvent Free(uint64_t t, uint64_t addr, trace::EventKind kind = trace::FREE,
                                uint64_t size = 0) {
  return {t, kind, addr, size, 0};
}
inline formats::AccessSample Load(uint64_t t, uint64_t addr) {
  return {t, 0x401234, addr, trace::ACCESS_LOAD, 1, 0};
}
inline formats::AccessSample Store(uint64_t t, uint64_t addr) {
  return {t, 0x401234, addr, trace::ACCESS_STORE, 1, 0};
}

}  // namespace tierscope::testing
