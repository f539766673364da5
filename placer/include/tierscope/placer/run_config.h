// The checks shared by `tierscope run` (before the program starts) and the preloaded placer (at
// start): which tiers a run uses and whether the profile's plan fits them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "profile.pb.h"
#include "tierscope/placer/tier_spec.h"

namespace tierscope::placer {

struct ResolvedTiers {
  std::vector<TierSpec> tiers;
  std::string source;        // "explicit", "profile", "discovered (...)"
  bool single_node = false;  // discovered with one memory tier: all tiers on the same nodes
};

// Explicit tiers win, then the profile's tiers, then the machine's. Nodes are checked against
// the cpuset. nullopt and one line in *error on failure.
std::optional<ResolvedTiers> ResolveTiers(const std::vector<TierSpec>* explicit_tiers,
                                          const profile::ProfileChunk* profile, std::string* error);

// A profile the placer can follow: it has a plan and every tier it names exists.
std::optional<std::string> CheckPlan(const profile::ProfileChunk& profile,
                                     const std::vector<TierSpec>& tiers);

// The timeline's interval (TIERSCOPE_PLACER_TIMELINE_EVERY, `run --timeline-every`): seconds,
// with an optional "s" or "ms" suffix, from 10 ms to one day; "" is the default, 10 s. nullopt and
// one line in *error naming the value otherwise.
std::optional<double> ParseTimelineEvery(const std::string& text, std::string* error);

// A plan left to the kernel (`tierscope plan --min-gain`): the placer places nothing, unless it
// learns sites (learning runs whatever the plan says). The CLI and the placer decide it alike.
inline bool PlacesNothing(const profile::Plan& plan, bool learning) {
  return plan.leave_to_kernel() && !learning;
}

// Warnings are said once per process tree, not once per process (a launcher script runs dozens
// of programs): kSaidVariable lists the keys of the warnings already said, and the process that
// says one first adds its key for the processes it starts. `tierscope run` sets it before the
// program starts for what it says itself: the machine-level warnings, and a plan left to the
// kernel (its summary line gives the reason).
constexpr const char* kSaidVariable = "TIERSCOPE_PLACER_SAID";
constexpr const char* kOneTierKey = "one-tier";
constexpr const char* kLeftToKernelKey = "left-to-kernel";

// Index of tier `name` in `tiers`; -1 for "default" or ""; -2 when unknown.
int TierIndex(const std::vector<TierSpec>& tiers, const std::string& name);

}  // namespace tierscope::placer
