// How much memory each tier holds now: the live bytes jemalloc counts in the tier's arenas (its
// quota sites' arenas included), the pages of its slice resident per node (asked to the kernel),
// its footprint and the program's own mappings placed on it. Read by the exit report and by the
// timeline (RSS against live bytes per tier over a run).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace tierscope::placer {

struct TierUsage {
  uint64_t live_bytes = 0;       // allocated and not freed, in the tier's arenas
  uint64_t resident_bytes = 0;   // pages of the tier's slice in memory
  uint64_t footprint_bytes = 0;  // the slice's high-water mark: never shrinks
  uint64_t mapped_bytes = 0;     // the program's mappings placed on the tier, still mapped
  std::map<int, uint64_t> resident_by_node;
  std::vector<unsigned> arenas;
};

// jemalloc's statistics are a snapshot it refreshes when asked: call once before UsageOf.
void RefreshAllocatorStats();
// Tier `tier` (an index of the tiers the placer runs with; the tiers must be ready).
TierUsage UsageOf(int tier);
// jemalloc's live bytes over all arenas (tiers and default).
uint64_t AllocatedBytes();
// At exit: every tier's usage and the allocated bytes read once, and returned by UsageOf and
// AllocatedBytes from then on, so that the timeline's last line and the stats file report one
// reading. Two readings a few allocations apart differ by whatever jemalloc's thread caches gave
// back in between (its incremental cache GC runs on allocation ticks).
void FreezeUsageForExit();
// The process's resident set (/proc/self/statm).
uint64_t ProcessRss();

}  // namespace tierscope::placer
