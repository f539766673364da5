// What the placer writes at exit: the stats file (JSON) and, in learning mode, the sites it saw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tierscope/placer/tier_spec.h"

namespace tierscope::placer {

struct RunInfo {
  std::string placement;    // "plan", "default (no profile)", "default"
  std::string reason;       // why default placement, when it is
  std::string tier_source;  // "explicit", "profile", "discovered (...)"
  std::string profile_path, stats_path, sites_path;
  std::vector<TierSpec> tiers;
  uint64_t plan_keys = 0, plan_key_conflicts = 0, plan_sites_missing = 0;
  std::string primary = "default";  // the placement served by jemalloc's fast paths
};

// One line on failure.
std::optional<std::string> WriteStats(const std::string& path, const RunInfo& info);
// A profile (no plan) whose sites are the stacks this run allocated from, with counts and bytes:
// learn -> plan -> run without a recorder, and a check that a profile matches a binary.
std::optional<std::string> WriteLearnedSites(const std::string& path);

}  // namespace tierscope::placer
