// The live what-if: re-plan a loaded profile under other tier capacities with the analyzer's
// planner (analyzer::MakePlan, the function behind `tierscope plan`), and save the result as a
// profile through formats::WriteProfile (the one writer), for the placer to follow.
#pragma once

#include <QString>
#include <memory>
#include <vector>

#include "data/profile_source.h"
#include "tierscope/analyzer/plan.h"

namespace tierscope::gui {

// The tiers the what-if starts from: the profile's own (latency 0 becomes the CLI's defaults,
// 100 ns for the first tier and 300 ns for the others). A profile without tiers gets "fast",
// sized to half of the sum of its sites' peaks, and "slow" for the rest.
std::vector<analyzer::TierSpec> InitialTiers(const profile::ProfileChunk& profile);

struct WhatIfResult {
  std::shared_ptr<const ProfileData> data;  // the profile with the new tiers and plan
  QString error;                            // one line when the tiers are unusable
};

// A copy of `base` planned onto `tiers` (capacity 0 of a tier but the last: empty, not
// unlimited). Tier fields the planner does not know (nodes, policy,
// huge pages) are kept from the base profile's tier of the same name.
WhatIfResult Replan(const ProfileData& base, const std::vector<analyzer::TierSpec>& tiers);

// Writes `data`'s profile, plan included. False and a one-line error on failure.
bool SaveProfile(const ProfileData& data, const QString& path, QString* error);

}  // namespace tierscope::gui
