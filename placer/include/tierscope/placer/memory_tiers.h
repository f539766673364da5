// The machine's memory tiers, read from the kernel: the memory_tiering sysfs (6.7+ with HMAT puts
// slower nodes in lower tiers), CPU-less nodes (CXL/PMEM expanders), the cpuset's allowed nodes.
// Cheap (a few sysfs reads, no hwloc) so the preloaded placer can call it at start.
#pragma once

#include <string>
#include <vector>

#include "tierscope/placer/tier_spec.h"

namespace tierscope::placer {

struct DiscoveredTiers {
  std::vector<TierSpec> tiers;  // fastest first; never empty
  std::string source;           // "memory_tiering", "cpu-less nodes" or "one tier"
  bool single_node = false;     // every tier maps to the same node set
};

DiscoveredTiers DiscoverTiers();

// "0-2,5" -> {0,1,2,5}; the kernel's node/cpu list syntax.
std::vector<int> ParseKernelList(const std::string& text);

}  // namespace tierscope::placer
