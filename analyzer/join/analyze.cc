// Replays a trace in time order: allocations enter the live map, releases leave it, and each
// access sample is credited to the block live at its address at that moment. Two passes over the
// file (join/trace_index.h, join/event_merger.h) keep memory independent of the trace's length.
#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "join/event_merger.h"
#include "join/live_map.h"
#include "join/trace_index.h"
#include "sites/module_index.h"
#include "sites/site_accumulator.h"
#include "sites/site_key.h"
#include "tierscope/analyzer/analyze.h"
#include "tierscope/formats/alloc_columns.h"

#ifndef TIERSCOPE_VERSION
#define TIERSCOPE_VERSION "unknown"
#endif

namespace tierscope::analyzer {
namespace {

// Probability-weighted count: the recorder samples each byte with probability 1/N, so an
// allocation of `size` bytes is recorded with probability 1 - (1 - 1/N)^size.
double AllocScale(uint64_t sample_bytes, uint64_t size) {
  if (sample_bytes <= 1 || size == 0) return 1;
  const double p = -std::expm1(double(size) * std::log1p(-1.0 / double(sample_bytes)));
  return p > 0 ? 1 / p : 1;
}

void DescribeSampler(const trace::Header& header, profile::Metadata* meta) {
  std::string names, weighting;
  double per_sample = 1;
  for (const auto& s : header.samplers()) {
    const char* name = "none";
    switch (s.kind()) {
      case trace::SAMPLER_PEBS:
        name = "pebs";
        per_sample = double(std::max<uint64_t>(1, s.period()));
        break;
      case trace::SAMPLER_IBS:
        name = "ibs";
        per_sample = double(std::max<uint64_t>(1, s.period()));
        break;
      case trace::SAMPLER_TIMER:
        name = "timer";
        break;
      case trace::SAMPLER_FAULTS:
        name = "faults";
        break;
      default:
        break;
    }
    if (!names.empty()) names += "+";
    names += name;
    std::string w = s.weighting();
    if (w.empty() && s.kind() == trace::SAMPLER_TIMER) {
      w = "timer: one sample per " + std::to_string(s.period()) +
          " ns of CPU time at a memory instruction; counts are weighted by stall time, not by "
          "access count";
    }
    if (!w.empty()) weighting += (weighting.empty() ? "" : "; ") + w;
  }
  meta->set_sampler(names.empty() ? "none" : names);
  meta->set_weighting(weighting.empty() ? "no access samples" : weighting);
  meta->set_accesses_per_sample(per_sample);
}

}  // namespace

AnalyzeResult AnalyzeTrace(const std::string& path, const AnalyzeOptions& options) {
  AnalyzeResult result;
  TraceIndex trace = IndexTrace(path, {options.cancel, options.progress});
  result.error = trace.error;
  if (trace.cancelled) {
    result.cancelled = true;
    return result;
  }

  auto* meta = result.profile.mutable_metadata();
  meta->set_tierscope_version(TIERSCOPE_VERSION);
  DescribeSampler(trace.header, meta);
  const uint64_t sample_bytes = trace.header.recorder().alloc_sample_bytes();
  meta->set_alloc_sample_bytes(double(sample_bytes));

  uint64_t last = 0;
  const TimeBins bins = BinsOf(trace, options.target_bins, &last);
  const uint64_t duration = last - bins.start_ns;
  meta->set_bin_ns(bins.bin_ns);
  meta->set_duration_ns(duration);

  auto* run = meta->add_runs();
  run->set_program(trace.header.executable());
  *run->mutable_cmdline() = trace.header.cmdline();
  run->set_hostname(trace.header.hostname());
  run->set_pid(trace.header.pid());
  run->set_start_realtime_ns(trace.header.start_realtime_ns());
  run->set_duration_ns(duration);
  run->set_trace_path(path);

  ModuleIndex modules(trace.modules, trace.thread_stacks);
  SiteKeyer keyer(modules, options.site_depth);
  std::vector<std::unique_ptr<SiteAccumulator>> sites;
  std::unordered_map<std::string, uint32_t> site_of_key;
  std::unordered_map<uint32_t, uint32_t> site_of_stack;
  std::vector<uint64_t> no_frames;
  // The recorder hands out stack ids densely from 1: a vector finds an allocation's site without
  // hashing. Ids too large to index (a hostile or foreign trace) fall back to the hash map.
  constexpr uint32_t kDenseStackIds = 1u << 22;
  constexpr uint32_t kNoSite = UINT32_MAX;
  std::vector<uint32_t> site_by_stack;
  auto site_for = [&](uint32_t stack_id) -> uint32_t {
    if (stack_id < site_by_stack.size() && site_by_stack[stack_id] != kNoSite) {
      return site_by_stack[stack_id];
    }
    auto hit = site_of_stack.find(stack_id);
    if (hit != site_of_stack.end()) return hit->second;
    auto stack = trace.stacks.find(stack_id);
    const auto& frames =
        stack == trace.stacks.end()
            ? no_frames
            : std::vector<uint64_t>(stack->second.frames().begin(), stack->second.frames().end());
    std::vector<uint64_t> kept = keyer.Truncate(frames);
    const std::string key = keyer.Key(kept);
    auto [it, added] = site_of_key.emplace(key, static_cast<uint32_t>(sites.size()));
    if (added) sites.push_back(std::make_unique<SiteAccumulator>(kept, bins));
    if (stack_id < kDenseStackIds) {
      if (stack_id >= site_by_stack.size()) site_by_stack.resize(stack_id + 1, kNoSite);
      site_by_stack[stack_id] = it->second;
    } else {
      site_of_stack.emplace(stack_id, it->second);
    }
    return it->second;
  };

  LiveMap live;
  uint64_t serial = 0, unknown_frees = 0, alloc_events = 0, free_events = 0;
  uint64_t total_samples = 0, heap_samples = 0;
  std::unordered_map<uint64_t, uint64_t> mapping_left;  // serial -> bytes still mapped
  uint64_t now = 0, peak_live = 0;
  // One std::function for the whole replay: converting the lambda at each call would allocate.
  const LiveMap::OnRemoved on_removed = [&](uint64_t start, uint64_t end, const LiveBlock& block) {
    bool whole = true;
    if (block.mapping) {
      auto it = mapping_left.find(block.serial);
      if (it != mapping_left.end()) {
        it->second -= std::min(it->second, end - start);
        whole = it->second == 0;
        if (whole) mapping_left.erase(it);
      }
    }
    sites[block.site]->OnRelease(now, end - start, block.scale, block.alloc_time_ns, whole);
  };

  const uint64_t n = trace.event_count;
  EventMerger merger(trace, path);
  uint64_t i = 0;
  while (const JoinEvent* next = merger.Next()) {
    const JoinEvent& e = *next;
    now = e.time_ns;
    if ((++i & 0xfffff) == 0) {
      if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
        result.cancelled = true;
        return result;
      }
      if (options.progress) options.progress(0.5 + 0.5 * double(i) / double(n));
    }
    if (e.kind == kSampleKind) {
      ++total_samples;
      if (const LiveBlock* block = live.Find(e.address)) {
        ++heap_samples;
        sites[block->site]->OnSample(e.time_ns, e.access, e.size, block->scale);
      } else {
        ++(*meta->mutable_samples_by_region())[modules.Region(e.address)];
      }
      continue;
    }
    const auto kind = static_cast<trace::EventKind>(e.kind);
    if (formats::KindIsAllocation(kind)) {
      ++alloc_events;
      const uint32_t site = site_for(e.stack_id);
      LiveBlock block;
      block.end = e.address + e.size;  // malloc(0) gives an empty block no sample can hit
      block.site = site;
      block.alloc_time_ns = e.time_ns;
      block.serial = ++serial;
      block.scale = AllocScale(sample_bytes, e.size);
      block.mapping = kind == trace::MMAP || kind == trace::MREMAP;
      if (block.mapping) mapping_left[block.serial] = e.size;
      live.Insert(e.address, block, on_removed);
      peak_live = std::max<uint64_t>(peak_live, live.size());
      sites[site]->OnAlloc(e.time_ns, e.size, block.scale);
    } else if (formats::KindIsRelease(kind)) {
      ++free_events;
      if (kind == trace::MUNMAP || kind == trace::MREMAP_UNMAP) {
        bool any = false;
        live.EraseRange(e.address, e.address + e.size,
                        [&](uint64_t s, uint64_t en, const LiveBlock& b) {
                          any = true;
                          on_removed(s, en, b);
                        });
        if (!any) ++unknown_frees;
        continue;
      }
      if (e.address == 0) continue;  // free(NULL) is a no-op
      LiveBlock block;
      if (!live.Erase(e.address, &block)) {
        ++unknown_frees;
        continue;
      }
      if (block.mapping) mapping_left.erase(block.serial);
      const uint64_t size = block.end - e.address;
      sites[block.site]->OnRelease(e.time_ns, size, block.scale, block.alloc_time_ns, true);
    }
  }

  if (merger.error() && !result.error) result.error = merger.error();
  result.join.events = i;
  result.join.chunk_reads = merger.stats().chunk_reads;
  result.join.peak_decoded_events = merger.stats().peak_decoded_events;
  result.join.peak_live_blocks = peak_live;

  meta->set_total_samples(total_samples);
  meta->set_heap_samples(heap_samples);
  meta->set_unknown_frees(unknown_frees);
  meta->set_alloc_events(alloc_events);
  meta->set_free_events(free_events);
  meta->set_site_depth(options.site_depth);
  for (size_t s = 0; s < sites.size(); ++s) {
    profile::Site* out = result.profile.add_sites();
    out->set_id(s + 1);
    keyer.Describe(sites[s]->frames(), out);
    sites[s]->Finish(last, meta->accesses_per_sample(), out);
  }
  if (options.progress) options.progress(1.0);
  return result;
}

}  // namespace tierscope::analyzer
