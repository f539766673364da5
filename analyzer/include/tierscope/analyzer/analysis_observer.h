// Handlers for what the join sees, for a consumer that needs more than the profile (the viewer's
// address space x time map) without reading the trace a second time: AnalyzeTrace calls them
// from its one time-ordered pass (heaptrack's model: one parser, a handler per consumer). The
// join pairs allocations with their releases already, so an observer gets whole lifetimes.
#pragma once

#include <cstdint>

namespace tierscope::analyzer {

// One block's life: [start, end) was allocated at alloc_ns and ended at free_ns. A mapping
// unmapped piece by piece ends piece by piece. Without a release in the trace a block ends when a
// new block takes its address, or at the end of the run; then freed is false.
struct BlockLifetime {
  uint64_t start = 0, end = 0;
  uint64_t alloc_ns = 0, free_ns = 0;
  uint32_t site_id = 0;  // the profile's Site.id
  bool freed = true;     // its release (free, munmap, ...) is in the trace
};

// All calls come from the thread running AnalyzeTrace, in time order (blocks by the time they
// end). Times are the trace's clock, as the events carry them.
class AnalysisObserver {
 public:
  virtual ~AnalysisObserver() = default;
  // Once, before any event: where the run starts and how long it lasts (the profile's
  // metadata.duration_ns), so that events can be binned as they come.
  virtual void OnRunBounds(uint64_t start_ns, uint64_t duration_ns) = 0;
  virtual void OnBlockLifetime(const BlockLifetime& block) = 0;
  // Every access sample; address 0 when the sampler could not decode one.
  virtual void OnSample(uint64_t address, uint64_t time_ns) = 0;
};

}  // namespace tierscope::analyzer
