// The plan's PlacementIndex (profile.proto): what the placer needs of the sites, computed from
// them when a profile is written, so that the placer can read the plan without the sites.
#pragma once

#include <cstdint>

#include "profile.pb.h"

namespace tierscope::formats {

// The depth a plan's keys are made at, as the placer and the replay take it: the plan's
// site_depth, else the profile's, within 1..8.
uint32_t PlanKeyDepth(const profile::ProfileChunk& profile);

// The index of `profile`'s plan with keys `depth` frames deep, from its sites. The writer makes
// it at PlanKeyDepth; the placer, from the sites, when it was asked for another depth or the
// plan has none.
profile::PlacementIndex IndexPlan(const profile::ProfileChunk& profile, uint32_t depth);

// Whether `plan`'s index can stand for the sites at key depth `depth`: present, made at that
// depth, one key per assignment.
bool IndexUsable(const profile::Plan& plan, uint32_t depth);

}  // namespace tierscope::formats
