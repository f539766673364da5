#include "trace_generator.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <vector>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::gui::testing {

namespace {

constexpr uint64_t kText = 0x400000;
constexpr uint64_t kSecond = 1000000000;
constexpr size_t kPerChunk = 4096;

void WriteAllocs(formats::TraceWriter& out, uint32_t tid,
                 const std::vector<formats::AllocEvent>& events) {
  for (size_t i = 0; i < events.size(); i += kPerChunk) {
    trace::TraceChunk chunk;
    auto* batch = chunk.add_allocs();
    batch->set_tid(tid);
    formats::AllocBatchBuilder builder(batch);
    for (size_t j = i; j < std::min(events.size(), i + kPerChunk); ++j) builder.Add(events[j]);
    out.Append(chunk);
  }
}

void WriteSamples(formats::TraceWriter& out, uint32_t tid,
                  const std::vector<formats::AccessSample>& samples) {
  for (size_t i = 0; i < samples.size(); i += kPerChunk) {
    trace::TraceChunk chunk;
    auto* batch = chunk.add_samples();
    batch->set_tid(tid);
    batch->set_source(trace::SAMPLER_TIMER);
    formats::SampleBatchBuilder builder(batch, false);
    for (size_t j = i; j < std::min(samples.size(), i + kPerChunk); ++j) builder.Add(samples[j]);
    builder.Finish();
    out.Append(chunk);
  }
}

}  // namespace

void WriteKvTrace(const std::string& path, int values) {
  formats::TraceWriter out(path);
  trace::TraceChunk first;
  auto* h = first.mutable_header();
  h->set_pid(4242);
  h->add_cmdline("kvtrace");
  h->set_executable("/nonexistent/kvtrace");
  h->set_hostname("trace-host");
  h->set_clock("CLOCK_MONOTONIC");
  h->set_start_time_ns(kTraceStartNs);
  h->set_page_size(4096);
  auto* sampler = h->add_samplers();
  sampler->set_kind(trace::SAMPLER_TIMER);
  sampler->set_period(1000000);
  sampler->set_weighting("stall time (timer)");
  auto* module = first.add_module_maps()->add_modules();
  module->set_path("/nonexistent/kvtrace");
  module->set_build_id("\x12\x34\x56");
  auto* seg = module->add_segments();
  seg->set_start(kText);
  seg->set_end(kText + 0x100000);
  seg->set_executable(true);
  for (uint32_t id = 1; id <= 3; ++id) {
    auto* s = first.add_stacks();
    s->set_id(id);
    s->add_frames(kText + 0x1000 * id);
    s->add_frames(kText + 0x100);
  }
  out.Append(first);

  // The index: thread 1, at the start, never freed; load samples all over it and the second.
  const uint64_t t0 = kTraceStartNs;
  WriteAllocs(out, 1, {{t0 + 1000, trace::MMAP, kIndexAddress, kIndexBytes, 1}});
  std::vector<formats::AccessSample> index_samples;
  for (uint64_t i = 0; i < kIndexSamples; ++i) {
    const uint64_t t = t0 + 2000 + i * (kSecond - 4000) / kIndexSamples;
    index_samples.push_back(
        {t, kText + 0x1010, kIndexAddress + (i * 4099) % kIndexBytes, trace::ACCESS_LOAD, 1, 0});
  }
  WriteSamples(out, 1, index_samples);

  // Values: per thread, 4 KiB blocks in their own heap stretch, each freed 10 ms later.
  for (uint32_t tid = 2; tid <= 3; ++tid) {
    std::vector<formats::AllocEvent> events;
    std::vector<formats::AccessSample> stores;
    const uint64_t base = kHeapBase + (tid - 2) * (uint64_t(values) * 4096 + (1 << 20));
    const uint64_t step = (kSecond / 2) / std::max(1, values);
    std::vector<std::pair<uint64_t, uint64_t>> frees;  // (time, address), in time order
    for (int v = 0; v < values; ++v) {
      const uint64_t t = t0 + kSecond / 4 + v * step;
      while (!frees.empty() && frees.front().first <= t) {
        events.push_back({frees.front().first, trace::FREE, frees.front().second, 0, 0});
        frees.erase(frees.begin());
      }
      const uint64_t address = base + uint64_t(v) * 4096;
      events.push_back({t, trace::MALLOC, address, 4096, 2});
      frees.push_back({t + 10000000, address});
      if (v % 10 == 0)
        stores.push_back({t + 1, kText + 0x2010, address + 64, trace::ACCESS_STORE, 1, 0});
    }
    for (const auto& [t, address] : frees) events.push_back({t, trace::FREE, address, 0, 0});
    WriteAllocs(out, tid, events);
    WriteSamples(out, tid, stores);
  }
  trace::TraceChunk last;
  last.mutable_footer()->set_end_time_ns(t0 + kSecond);
  last.mutable_footer()->set_end_reason("exit");
  out.Append(last);
  out.Close();
}

bool WriteDamagedCopy(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return false;
  if (bytes.size() < 40) return false;
  for (size_t i = 16; i < 40; ++i) bytes[i] = char(0x5a);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return out.good();
}

}  // namespace tierscope::gui::testing
