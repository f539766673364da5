// AnalyzeTrace: the two passes of the streaming join, put together. Pass 1 (join/trace_index.h)
// reads what is small and where each batch is; the metadata and time bins follow from it; pass 2
// (join/event_merger.h, consumed by join/join_pass.h) replays the events in time order into the
// sites (sites/site_table.h). Memory stays independent of the trace's length.
#include "tierscope/analyzer/analyze.h"

#include <unordered_set>

#include "join/event_merger.h"
#include "join/join_pass.h"
#include "join/profile_metadata.h"
#include "join/trace_index.h"
#include "sites/module_index.h"
#include "sites/site_keyer.h"
#include "sites/site_table.h"

namespace tierscope::analyzer {

AnalyzeResult AnalyzeTrace(const std::string& path, const AnalyzeOptions& options) {
  AnalyzeResult result;
  TraceIndex trace = IndexTrace(path, {options.cancel, options.progress});
  result.error = trace.error;
  if (trace.cancelled) {
    result.cancelled = true;
    return result;
  }

  uint64_t end_ns = 0;
  const TimeBins bins = BinsOf(trace, options.target_bins, &end_ns);
  profile::Metadata* meta = result.profile.mutable_metadata();
  DescribeRun(trace, path, bins, end_ns, meta);
  meta->set_site_depth(options.site_depth);
  if (options.observer) options.observer->OnRunBounds(bins.start_ns, meta->duration_ns());

  ModuleIndex modules(trace.modules, trace.thread_stacks);
  if (options.on_frames) {
    const SiteKeyer keyer(modules, options.site_depth);
    std::unordered_set<uint64_t> seen;
    std::vector<uint64_t> frames;
    for (const auto& [id, stack] : trace.stacks) {
      const std::vector<uint64_t> site({stack.frames().begin(), stack.frames().end()});
      for (uint64_t address : keyer.Truncate(site)) {
        if (seen.insert(address).second) frames.push_back(address);
      }
    }
    profile::Site described;  // its stack: the frames as SiteTable will name them
    keyer.Describe(frames, &described);
    options.on_frames({described.stack().begin(), described.stack().end()});
  }
  SiteTable sites(trace.stacks, modules, options.site_depth, bins);
  const AllocatorCode allocator(trace.modules);
  {
    // Scoped: the join's live blocks and the merger's decoded chunks are freed before the
    // profile is built, which then reuses their memory. Held on, they made the peak the sum of
    // both (python3's trace: the live map's 72 MiB slab beside 90 MB of profile).
    JoinPass join(modules, allocator, &sites, trace.header.recorder().alloc_sample_bytes(),
                  options.observer, meta);
    EventMerger merger(trace, path, ReadAhead::kThread, options.helper_busy);
    if (!join.Run(merger, {options.cancel, options.progress, trace.event_count})) {
      result.cancelled = true;
      return result;
    }
    join.Finish(end_ns);
    if (merger.error() && !result.error) result.error = merger.error();
    result.join.events = join.events();
    result.join.chunk_reads = merger.stats().chunk_reads;
    result.join.peak_decoded_events = merger.stats().peak_decoded_events;
    result.join.peak_live_blocks = join.peak_live_blocks();
  }
  sites.WriteTo(end_ns, meta->accesses_per_sample(), &result.profile);
  if (options.progress) options.progress(1.0);
  return result;
}

}  // namespace tierscope::analyzer
