// Placement planning: which site goes to which memory tier under each tier's capacity. The tiers
// themselves are parsed in tiers.h and discovered in tier_discovery.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profile.pb.h"
#include "tierscope/analyzer/tiers.h"

namespace tierscope::analyzer {

// Default node budget of the exact search: a fraction of a second on one core at one time bin.
inline constexpr uint64_t kExactMaxNodes = 1'000'000;

struct PlanOptions {
  std::vector<TierSpec> tiers;  // fastest first; the last one takes whatever is left
  // kRandom: a temperature-blind control for `tierscope evaluate` ("random-sites"): sites in a
  // random order (seeded by random_seed), each taken while it fits.
  // kAllButCold: every site at least `cold_share` of the heap's mean temperature (by the upper
  // bound of its samples, sample_counts.h) goes to the first tier (its budget spills the rest to
  // the next, in allocation order, as first-touch would), only the colder ones to the last:
  // first-touch that keeps cold data out.
  enum class Method { kAuto, kGreedy, kExact, kRandom, kAllButCold } method = Method::kAuto;
  double cold_share = 0.125;
  // Sites the plan does not name (new in another run) go to the first tier, spilling, instead of
  // the last.
  bool unknown_to_first_tier = false;
  uint64_t random_seed = 1;
  size_t exact_max_sites = 20;  // kAuto uses the exact search up to this many candidate sites
  // The exact search stops after this many branch-and-bound nodes and keeps the best found (at
  // least the greedy fill); Plan.method says so. A count, not a time, so plans are reproducible.
  uint64_t exact_max_nodes = kExactMaxNodes;
  uint64_t size_threshold = 4096;  // memtier baseline: allocations up to this size go fast
  uint32_t max_site_depth = 8;     // cap on Plan.site_depth
  // The placer walks site_depth frames on every allocation: a shallower depth is taken when the
  // sites it merges into one key lose at most this share of the samples (planner.cc,
  // ChooseSiteDepth). 0: only depths at which every key keeps every site's decision.
  double depth_loss_share = 0.001;
  // Left-over room on a tier goes to the hottest sites that did not fit whole, as a quota of live
  // bytes (Assignment.quota_bytes) of at least this many bytes; 0 turns quotas off.
  uint64_t min_quota_bytes = 64 * 1024;
  // The fills use this share of each limited tier's capacity (the plan still states the whole):
  // below 1, room is kept for a production heap larger than the learned one, whose extra bytes
  // would otherwise fill the tier in allocation order.
  double fill_share = 1.0;
  // SelectPlan keeps the kernel's first touch (Plan.leave_to_kernel: no assignments) unless a
  // plan shape serves at least this share of the learned run's heap samples more from the fast
  // tier than it does (mean over the replays at the room given and at half of it). 0: the best
  // shape, even when first touch does as well.
  double min_gain_share = 0.01;
};

// One site as the planner sees it.
struct PlanItem {
  size_t index = 0;                   // into the profile's sites
  double value = 0;                   // samples it would move to a faster tier
  uint64_t peak = 0;                  // peak live bytes
  std::vector<uint64_t> size_by_bin;  // live bytes it needs in each time bin
  std::vector<uint32_t> samples_by_bin;
  uint64_t first_alloc_ns = 0;
  double mean_size = 0;
};

std::vector<PlanItem> PlanItems(const profile::ProfileChunk& profile);

// Chosen subsets of `items` (indices into it) that fit `capacity` in every time bin.
std::vector<size_t> GreedyFill(const std::vector<PlanItem>& items, uint64_t capacity);
std::vector<size_t> ExactFill(const std::vector<PlanItem>& items, uint64_t capacity,
                              uint64_t max_nodes = kExactMaxNodes);
struct ExactResult {
  std::vector<size_t> chosen;
  uint64_t nodes = 0;    // branch-and-bound nodes visited
  bool complete = true;  // false: the node budget ran out, `chosen` is the best found, not proven
};
ExactResult ExactSearch(const std::vector<PlanItem>& items, uint64_t capacity, uint64_t max_nodes);
// Partial places for sites that did not fit whole: after `chosen` (indices into items) took their
// room, each remaining site with samples, in density order, gets the room left in every bin it
// is live in (its slack) as a quota, when that is at least `min_quota` bytes and four of its mean
// allocation.
struct Quota {
  size_t item;
  uint64_t bytes;
};
std::vector<Quota> QuotaFill(const std::vector<PlanItem>& items, const std::vector<size_t>& chosen,
                             uint64_t capacity, uint64_t min_quota);
// The temperature-blind baselines: sites in first-allocation order, skipping those whose mean
// allocation size is above `max_mean_size`, each taken if it still fits.
std::vector<size_t> AllocationOrderFill(const std::vector<PlanItem>& items, uint64_t capacity,
                                        uint64_t max_mean_size);
// Upper bound on the value any placement can put under `capacity`: per time bin, the best
// fractional choice of that bin's samples.
double OracleValue(const std::vector<PlanItem>& items, uint64_t capacity);
bool Fits(const std::vector<PlanItem>& items, const std::vector<size_t>& chosen, uint64_t capacity);
double ValueOf(const std::vector<PlanItem>& items, const std::vector<size_t>& chosen);

// Plans the profile's sites onto options.tiers; fills profile->tiers and profile->plan.
// Throws std::invalid_argument for unusable tiers (none, or a limited last tier).
void MakePlan(const PlanOptions& options, profile::ProfileChunk* profile);

}  // namespace tierscope::analyzer
