// What the placer writes at exit: the stats file (JSON) and, in learning mode, the sites it saw.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tierscope/placer/tier_spec.h"

namespace tierscope::placer {

struct RunInfo {
  std::string placement;        // "plan", "default (no profile)", "default"
  std::string reason;           // why default placement, when it is
  bool left_to_kernel = false;  // the reason is the plan's own choice (Plan.leave_to_kernel)
  std::string tier_source;      // "explicit", "profile", "discovered (...)"
  std::string profile_path, stats_path, sites_path;
  std::string timeline_path, timeline_every;  // TIERSCOPE_PLACER_TIMELINE and its _EVERY
  std::vector<TierSpec> tiers;
  uint64_t plan_keys = 0, plan_key_conflicts = 0, plan_sites_missing = 0;
  uint64_t prefix_rules = 0;  // the plan's per-prefix rules in the key table
  // Quota sites of the plan beyond kMaxQuotas (or without an arena): whole-site placement.
  uint64_t quota_sites_dropped = 0;
  std::string primary = "default";  // the placement served by jemalloc's fast paths
  // The profile's modules by file name -> build-id ("" without one): those the plan's keys read
  // (their first site_depth frames), and those of any frame of any site.
  std::map<std::string, std::string> key_modules, profile_modules;
};

// This process's run (startup.cc), read-only once PlacerStart() returned.
extern RunInfo g_info;

class ModuleTable;

// This process against the profile: whether its executable is one of the profile's modules, and
// the modules of the plan's keys loaded here as another build (same file name, another build-id:
// their sites cannot match).
struct ModuleCheck {
  bool program_in_profile = false;
  std::vector<std::string> other_build;  // file names
};
ModuleCheck CheckModules(const RunInfo& info, const ModuleTable& modules);

// One line on stderr, "tierscope-placer: " first.
void Say(const std::string& line);

// One line on failure.
std::optional<std::string> WriteStats(const std::string& path, const RunInfo& info);
// A profile (no plan) whose sites are the stacks this run allocated from, with counts and bytes:
// learn -> plan -> run without a recorder, and a check that a profile matches a binary.
std::optional<std::string> WriteLearnedSites(const std::string& path);

}  // namespace tierscope::placer
