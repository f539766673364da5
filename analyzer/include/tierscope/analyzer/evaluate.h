// Placement you can trust: replays a trace (every thread's allocations, frees, reallocs, mmaps and
// munmaps in time order) against tier capacities and counts the trace's heap access samples by the
// tier of the byte each one hits, for tierscope's plan (decided exactly as the placer decides:
// common/site_key.h, budget spill, realloc keeping its tier), the kernel's first-touch, interleave,
// memtier's size threshold, random site assignment, and two hindsight bounds. Plan from one run,
// replay another: a plan scored on the run it was learned from says little about the next.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "profile.pb.h"
#include "tierscope/analyzer/plan.h"
#include "tierscope/formats/container.h"

namespace tierscope::analyzer {

struct EvaluateOptions {
  // Fastest first, capacities resolved; the last tier takes whatever is left (capacity 0).
  std::vector<TierSpec> tiers;
  uint32_t bins = 100;         // time bins: bytes over time and the hindsight bounds' windows
  uint32_t site_windows = 10;  // hindsight-site-window: allocation-time windows per site
  uint64_t page_bytes = 4096;
  // First-touch and interleave place blocks from this size page by page (a large malloc is its
  // own mapping, whose pages the kernel places one by one); smaller blocks as a whole.
  uint64_t page_split_bytes = 64 * 1024;
  uint64_t size_threshold = 4096;  // memtier: allocations up to this size go fast
  uint64_t random_seed = 1;        // random-sites
  uint64_t peak_heap_bytes = 0;    // from MeasureFootprint when the caller has it; 0: measured
  // Only the plan's policy, no bounds, no per-site table and no footprint (peak_heap_bytes stays
  // as given): SelectPlan's replays.
  bool plan_only = false;
  // With plan_only: first-touch too (SelectPlan's kernel candidate, in the same pass).
  bool with_first_touch = false;
  // The replay's chunks decoded on a thread of their own, ahead of it (join/chunk_source.h); off
  // where replays already run one per core (SelectPlan).
  bool read_ahead = true;
  std::function<void(double)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

// How one policy (or bound) fared on the replayed trace.
struct PolicyResult {
  std::string name;
  // "policy": a replayed placement (per-site figures, bytes per tier); "bound": a hindsight
  // upper bound, which no placer can run.
  std::string kind = "policy";
  bool replayed() const { return kind == "policy"; }
  std::string description;  // one line: what it is, and for bounds what they rest on
  double fast_samples = 0;  // heap samples served by the fastest tier
  double fast_share = 0;    // of the heap samples
  double stall_ns = 0;      // estimated from the tiers' latencies (samples x accesses/sample)
  std::vector<uint64_t> peak_bytes;  // per tier; empty for bounds
  // Allocations placed on each tier (by their first byte); the last entry counts those left to
  // the kernel's placement (first-touch).
  std::vector<uint64_t> allocations_by_tier;
  std::vector<std::vector<uint64_t>> bytes_by_bin;  // [tier][bin] live at the end of each bin
  uint64_t spilled_allocations = 0;  // wanted a tier that was full, went to a slower one
  uint64_t split_allocations = 0;    // large, split: its head on the tier wanted, the rest lower
  uint64_t migrated_bytes = 0;       // hindsight-pages: pages promoted to the fast tier
};

// One allocation site as the placer tells sites apart (the plan's site depth).
struct EvaluatedSite {
  std::string label;          // innermost frame, symbolized where the profile knows it
  uint64_t profile_site = 0;  // id of the matching site in the plan's profile; 0: none
  std::string planned_tier;   // the plan's tier; "(not in plan: TIER)" for unknown sites
  uint64_t allocations = 0, bytes = 0, samples = 0;
  std::vector<double> fast_samples;  // per policy, in EvaluationResult::policies' order
};

struct EvaluationResult {
  std::string trace_path, profile_path;
  bool held_out = true;  // the plan was learned from another run
  std::vector<TierSpec> tiers;
  uint64_t peak_heap_bytes = 0;  // most live heap (tracked allocations and mappings) at once
  uint64_t heap_samples = 0, total_samples = 0;
  uint64_t allocations = 0, sites_seen = 0, sites_planned_seen = 0;
  uint64_t planned_allocations = 0;  // allocations whose site the plan names
  uint64_t bin_ns = 0, duration_ns = 0;
  uint32_t site_depth = 0;
  double accesses_per_sample = 1;
  std::vector<PolicyResult> policies;
  std::vector<EvaluatedSite> sites;           // by samples, most first
  std::vector<std::string> warnings;          // said once each by the caller
  std::string plan_note;                      // how the plan was chosen (PlanAndEvaluate)
  std::optional<formats::FormatError> error;  // a damaged trace: figures cover what came before
  bool cancelled = false;
};

// Most heap bytes live at once in the trace (one replay pass). Percent capacities resolve to it.
struct Footprint {
  uint64_t peak_heap_bytes = 0;
  uint64_t duration_ns = 0;
  std::optional<formats::FormatError> error;
};
// Stops early (peak so far) when *cancel is set.
Footprint MeasureFootprint(const std::string& trace_path,
                           const std::atomic<bool>* cancel = nullptr);

// Replays `trace_path` against options.tiers for `planned`'s plan (a profile with a plan made
// for these tiers; site keys at its Plan.site_depth) and the baselines. `random_plan` (same
// tiers, random site priorities) is replayed as "random-sites" when given. Never throws for a bad
// file: the result says what happened.
EvaluationResult Evaluate(const std::string& trace_path, const profile::ProfileChunk& planned,
                          const profile::ProfileChunk* random_plan, const EvaluateOptions& options);

// Plans `learned` for plan.tiers in several shapes (the knapsack with quotas, the same with new
// sites spilling from the fast tier, the knapsack for half the room, all sites but the cold ones
// on the fast tier) and replays each on the run the profile was learned from (its Metadata.runs'
// traces, when they are there) at the tiers given and at half their size, keeping the one that
// serves the most samples fast over both. With another method than kAuto, one tier, or no
// learned trace at hand: MakePlan's plan. *note (may be null) says what was chosen.
profile::ProfileChunk SelectPlan(const profile::ProfileChunk& learned, const PlanOptions& plan,
                                 std::string* note, const std::atomic<bool>* cancel = nullptr);

// The random-sites control: `learned` planned for plan.tiers with sites in a random order.
profile::ProfileChunk RandomPlan(const profile::ProfileChunk& learned, const PlanOptions& plan,
                                 uint64_t seed);

// Plans `learned` (left as it is) with SelectPlan, and the random-sites control from it, then
// replays `trace_path` with options.tiers = plan.tiers. What `evaluate`, `plan --evaluate-on`
// and the viewer's what-if call. Throws std::invalid_argument for unusable tiers.
EvaluationResult PlanAndEvaluate(const profile::ProfileChunk& learned, const PlanOptions& plan,
                                 const std::string& trace_path, EvaluateOptions options);

// The evaluation for people (text: policies, then the `top_sites` hottest sites) and tools (JSON:
// everything, bytes per tier over time included; CSV: one row per policy).
void WriteEvaluationText(const EvaluationResult& r, size_t top_sites, std::ostream& out);
void WriteEvaluationJson(const EvaluationResult& r, size_t top_sites, std::ostream& out);
void WriteEvaluationCsv(const EvaluationResult& r, std::ostream& out);

}  // namespace tierscope::analyzer
