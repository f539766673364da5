// Pass 2's consumer: replays the time-ordered events (join/event_merger.h) against the live map.
// Allocations enter it, releases leave it, and each access sample is credited to the block live
// at its address at that moment; the sites (and an observer, when one is registered) hear of
// every allocation, release and sample.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <unordered_map>

#include "join/event_merger.h"
#include "join/live_map.h"
#include "profile.pb.h"
#include "sites/module_index.h"
#include "sites/site_table.h"
#include "symbolize/allocator_code.h"
#include "tierscope/analyzer/analysis_observer.h"

namespace tierscope::analyzer {

// Probability-weighted count: the recorder samples each byte with probability 1/N, so an
// allocation of `size` bytes is recorded with probability 1 - (1 - 1/N)^size. 1 without
// sampling (sample_bytes 0 or 1).
double AllocScale(uint64_t sample_bytes, uint64_t size);

class JoinPass {
 public:
  // observer may be null: the per-event loop is compiled twice, so without one it makes no call
  // and no test for it (only the rarer removals of replaced or unmapped blocks test it).
  // `meta` receives samples_by_region as the pass goes, and the counts at the end.
  // `allocator`: a sample that hits no live block with its IP there counts as "allocator".
  JoinPass(const ModuleIndex& modules, const AllocatorCode& allocator, SiteTable* sites,
           uint64_t alloc_sample_bytes, AnalysisObserver* observer, profile::Metadata* meta);

  struct Control {
    const std::atomic<bool>* cancel = nullptr;
    std::function<void(double)> progress;  // reported as 0.5..1 (pass 1 had the first half)
    uint64_t event_count = 0;              // from pass 1, for the progress
  };
  // Consumes every event of `merger`. False when cancelled.
  bool Run(EventMerger& merger, const Control& control);
  // Blocks still live end at end_ns (for the observer), and the counts go to the metadata.
  void Finish(uint64_t end_ns);

  uint64_t events() const { return events_; }
  uint64_t peak_live_blocks() const { return peak_live_; }

 private:
  template <bool kObserved>
  bool Loop(EventMerger& merger, const Control& control);
  template <bool kObserved>
  void OnSample(const JoinEvent& e);
  template <bool kObserved>
  void OnAlloc(const JoinEvent& e, trace::EventKind kind);
  template <bool kObserved>
  void OnRelease(const JoinEvent& e, trace::EventKind kind);
  // A piece [start, end) of `block` stops being live at now_: unmapped (released), or replaced by
  // a new block at its address (its release was not seen).
  void OnRemoved(uint64_t start, uint64_t end, const LiveBlock& block, bool released);

  const ModuleIndex& modules_;
  const AllocatorCode& allocator_;
  SiteTable& sites_;
  const uint64_t sample_bytes_;
  AnalysisObserver* const observer_;
  profile::Metadata* const meta_;
  LiveMap live_;
  // One std::function for the whole replay: converting a lambda at each call would allocate.
  const LiveMap::OnRemoved on_removed_;
  std::unordered_map<uint64_t, uint64_t> mapping_left_;  // serial -> bytes still mapped
  uint64_t now_ = 0, serial_ = 0, events_ = 0, peak_live_ = 0;
  uint64_t unknown_frees_ = 0, alloc_events_ = 0, free_events_ = 0;
  uint64_t total_samples_ = 0, heap_samples_ = 0;
};

}  // namespace tierscope::analyzer
