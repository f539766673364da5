// The live what-if: re-plan a loaded profile under other tier capacities with the analyzer's
// planner (analyzer::MakePlan, the function behind `tierscope plan`), replay the plan on a trace
// against the other policies (analyzer::PlanAndEvaluate, the function behind `tierscope
// evaluate`), and save the result as a profile through formats::WriteProfile (the one writer),
// for the placer to follow. Nothing here touches a widget: the panel calls it from its worker.
#pragma once

#include <QString>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "data/profile_source.h"
#include "tierscope/analyzer/evaluate.h"
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

// The planner's options for the what-if's `tiers`: capacity 0 of a tier but the last means an
// empty tier, which the planner spells 1 byte (its 0 is "unlimited"). Replan and ReplayPlan both
// use it, so the replayed plan is the plan the panel shows.
analyzer::PlanOptions WhatIfPlanOptions(const std::vector<analyzer::TierSpec>& tiers);

// A copy of `base` planned onto `tiers` (capacity 0 of a tier but the last: empty, not
// unlimited). Tier fields the planner does not know (nodes, policy,
// huge pages) are kept from the base profile's tier of the same name.
WhatIfResult Replan(const ProfileData& base, const std::vector<analyzer::TierSpec>& tiers);

struct WhatIfReplay {
  QString trace;
  // Set unless the tiers were unusable or the replay was cancelled. With `error` set too, the
  // figures cover the trace up to its damage (see `partial`).
  std::optional<analyzer::EvaluationResult> result;
  QString error;         // one line: a damaged or unreadable trace, unusable tiers
  bool partial = false;  // damaged after some complete chunks: the figures cover those
  bool cancelled = false;
};

// analyzer::PlanAndEvaluate: `base`'s profile planned for `tiers` (as Replan plans it) and the
// trace replayed for the plan, first-touch, interleave, size threshold, random sites and the two
// hindsight bounds. `peak_heap_bytes` is the trace's peak heap when an earlier replay of the same
// trace measured it (0: measured here, one more pass over the trace). Never throws.
WhatIfReplay ReplayPlan(const ProfileData& base, const std::vector<analyzer::TierSpec>& tiers,
                        const QString& trace, const std::atomic<bool>* cancel,
                        const std::function<void(double)>& progress, uint64_t peak_heap_bytes = 0);

// Stall relative to every heap sample served by the fastest tier (as `tierscope evaluate` prints
// it): stall_ns / (heap samples x fastest latency x accesses per sample); 1.00 is all fast.
// Negative when there is nothing to divide by (no heap samples).
double StallRatio(const analyzer::EvaluationResult& result, const analyzer::PolicyResult& policy);

// "held out: replayed on kv.trace (another run)", or the in-sample warning.
QString ReplayCaption(const analyzer::EvaluationResult& result);

// Writes `data`'s profile, plan included. False and a one-line error on failure.
bool SaveProfile(const ProfileData& data, const QString& path, QString* error);

}  // namespace tierscope::gui
