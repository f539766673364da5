// Tiers found on this machine rather than given. Implemented in analyzer/plan/tier_discovery.cc.
#pragma once

#include <string>
#include <vector>

#include "tierscope/analyzer/tiers.h"

namespace tierscope::analyzer {

// Tiers from this machine's NUMA nodes (hwloc) and kernel memory tiers; `note` says what was found.
std::vector<TierSpec> TiersFromTopology(std::string* note);

}  // namespace tierscope::analyzer
