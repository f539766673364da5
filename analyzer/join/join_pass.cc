#include "join/join_pass.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tierscope/formats/alloc_columns.h"

namespace tierscope::analyzer {

double AllocScale(uint64_t sample_bytes, uint64_t size) {
  if (sample_bytes <= 1 || size == 0) return 1;
  const double p = -std::expm1(double(size) * std::log1p(-1.0 / double(sample_bytes)));
  return p > 0 ? 1 / p : 1;
}

JoinPass::JoinPass(const ModuleIndex& modules, const AllocatorCode& allocator, SiteTable* sites,
                   uint64_t alloc_sample_bytes, AnalysisObserver* observer, profile::Metadata* meta)
    : modules_(modules),
      allocator_(allocator),
      sites_(*sites),
      sample_bytes_(alloc_sample_bytes),
      observer_(observer),
      meta_(meta),
      on_removed_([this](uint64_t start, uint64_t end, const LiveBlock& block) {
        OnRemoved(start, end, block, false);
      }) {}

bool JoinPass::Run(EventMerger& merger, const Control& control) {
  return observer_ ? Loop<true>(merger, control) : Loop<false>(merger, control);
}

template <bool kObserved>
bool JoinPass::Loop(EventMerger& merger, const Control& control) {
  while (const JoinEvent* next = merger.Next()) {
    const JoinEvent& e = *next;
    now_ = e.time_ns;
    if ((++events_ & 0xfffff) == 0) {
      if (control.cancel && control.cancel->load(std::memory_order_relaxed)) return false;
      if (control.progress) {
        control.progress(0.5 + 0.5 * double(events_) / double(control.event_count));
      }
    }
    if (e.kind == kSampleKind) {
      OnSample<kObserved>(e);
      continue;
    }
    const auto kind = static_cast<trace::EventKind>(e.kind);
    if (formats::KindIsAllocation(kind)) {
      OnAlloc<kObserved>(e, kind);
    } else if (formats::KindIsRelease(kind)) {
      OnRelease<kObserved>(e, kind);
    }
  }
  return true;
}

template <bool kObserved>
void JoinPass::OnSample(const JoinEvent& e) {
  ++total_samples_;
  if constexpr (kObserved) observer_->OnSample(e.address, e.time_ns);
  if (const LiveBlock* block = live_.Find(e.address)) {
    ++heap_samples_;
    // A sample taken at a stretched period stands for 2^shift at the header's period.
    const double period = double(uint64_t{1} << e.stack_id);
    sites_.at(block->site).OnSample(e.time_ns, e.access, e.size, block->scale * period);
  } else {
    const char* region = modules_.Region(e.address);
    // The allocator's own code touching memory around the blocks (headers, free lists, freed
    // blocks) in the heap areas: not the program's data (symbolize/allocator_code.h).
    if ((std::strcmp(region, "mapping") == 0 || std::strcmp(region, "unknown") == 0) &&
        allocator_.Contains(e.ip)) {
      region = "allocator";
    }
    ++(*meta_->mutable_samples_by_region())[region];
  }
}

template <bool kObserved>
void JoinPass::OnAlloc(const JoinEvent& e, trace::EventKind kind) {
  ++alloc_events_;
  const uint32_t site = sites_.SiteOf(e.stack_id);
  LiveBlock block;
  block.end = e.address + e.size;  // malloc(0) gives an empty block no sample can hit
  block.site = site;
  block.alloc_time_ns = e.time_ns;
  block.serial = ++serial_;
  block.scale = AllocScale(sample_bytes_, e.size);
  block.mapping = kind == trace::MMAP || kind == trace::MREMAP;
  if (block.mapping) mapping_left_[block.serial] = e.size;
  live_.Insert(e.address, block, on_removed_);
  peak_live_ = std::max<uint64_t>(peak_live_, live_.size());
  sites_.at(site).OnAlloc(e.time_ns, e.size, block.scale);
}

template <bool kObserved>
void JoinPass::OnRelease(const JoinEvent& e, trace::EventKind kind) {
  ++free_events_;
  if (kind == trace::MUNMAP || kind == trace::MREMAP_UNMAP) {
    bool any = false;
    live_.EraseRange(e.address, e.address + e.size,
                     [&](uint64_t start, uint64_t end, const LiveBlock& block) {
                       any = true;
                       OnRemoved(start, end, block, true);
                     });
    if (!any) ++unknown_frees_;
    return;
  }
  if (e.address == 0) return;  // free(NULL) is a no-op
  LiveBlock block;
  if (!live_.Erase(e.address, &block)) {
    ++unknown_frees_;
    return;
  }
  if (block.mapping) mapping_left_.erase(block.serial);
  sites_.at(block.site)
      .OnRelease(e.time_ns, block.end - e.address, block.scale, block.alloc_time_ns, true);
  if constexpr (kObserved) {
    observer_->OnBlockLifetime(
        {e.address, block.end, block.alloc_time_ns, e.time_ns, block.site + 1});
  }
}

void JoinPass::OnRemoved(uint64_t start, uint64_t end, const LiveBlock& block, bool released) {
  bool whole = true;
  if (block.mapping) {
    auto it = mapping_left_.find(block.serial);
    if (it != mapping_left_.end()) {
      it->second -= std::min(it->second, end - start);
      whole = it->second == 0;
      if (whole) mapping_left_.erase(it);
    }
  }
  sites_.at(block.site).OnRelease(now_, end - start, block.scale, block.alloc_time_ns, whole);
  if (observer_) {
    observer_->OnBlockLifetime({start, end, block.alloc_time_ns, now_, block.site + 1, released});
  }
}

void JoinPass::Finish(uint64_t end_ns) {
  // What is still live lives to the end of the run. The map is not used after this.
  if (observer_) {
    live_.EraseRange(0, UINT64_MAX, [&](uint64_t start, uint64_t end, const LiveBlock& block) {
      observer_->OnBlockLifetime({start, end, block.alloc_time_ns, end_ns, block.site + 1, false});
    });
  }
  meta_->set_total_samples(total_samples_);
  meta_->set_heap_samples(heap_samples_);
  meta_->set_unknown_frees(unknown_frees_);
  meta_->set_alloc_events(alloc_events_);
  meta_->set_free_events(free_events_);
}

}  // namespace tierscope::analyzer
