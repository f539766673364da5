// Turns a profile into a plan: fills tiers fastest first, scores the plan and the baselines under
// the latency model, and picks the shallowest site depth the placer can match on.
#include <algorithm>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "sites/site_keyer.h"
#include "tierscope/analyzer/plan.h"
#include "tierscope/analyzer/sample_counts.h"
#include "tierscope/common/site_key.h"

namespace tierscope::analyzer {
namespace {

// Fast-tier share and stall time saved (against every site on the slowest tier) of a placement.
struct Score {
  double fast_share = 0, stall_saved_ns = 0;
};

// A site with a quota counts for the share of its peak the quota holds; the rest of it for the
// next tier.
Score ScoreOf(const std::vector<PlanItem>& items, const std::vector<int>& tier_of,
              const std::vector<uint64_t>& quota, const std::vector<TierSpec>& tiers,
              double accesses_per_sample) {
  double total = 0, fast = 0, saved = 0;
  const double slowest = tiers.back().latency_ns;
  for (size_t i = 0; i < items.size(); ++i) {
    total += items[i].value;
    const int t = tier_of[i];
    const double on_tier =
        quota.empty() || quota[i] == 0
            ? 1.0
            : std::min(1.0, double(quota[i]) / double(std::max<uint64_t>(1, items[i].peak)));
    const int next = std::min<int>(t + 1, static_cast<int>(tiers.size()) - 1);
    if (t == 0) fast += items[i].value * on_tier;
    saved += items[i].value * accesses_per_sample *
             (on_tier * (slowest - tiers[t].latency_ns) +
              (1 - on_tier) * (slowest - tiers[next].latency_ns));
  }
  return {total > 0 ? fast / total : 0, saved};
}

// Samples a fill holds: whole sites, and quota'd ones for the share of their peak they get.
double QuotaValue(const std::vector<PlanItem>& items, const std::vector<size_t>& whole,
                  const std::vector<Quota>& quotas) {
  double v = ValueOf(items, whole);
  for (const Quota& q : quotas) {
    v += items[q.item].value *
         std::min(1.0, double(q.bytes) / double(std::max<uint64_t>(1, items[q.item].peak)));
  }
  return v;
}

// The plan's site depth. The placer walks that many frames on every allocation, so the
// shallowest depth that keeps the plan is the cheapest. Where sites that share a key at depth d
// disagree, the key can carry one decision only: that of its leader (the most samples, then the
// most allocations, then the first site), and the others follow it. Depth d is taken when that
// costs at most options.depth_loss_share of all samples (a site moved to a slower tier loses its
// samples), moves no site with a quota (its decision is its own), and moves onto each limited tier
// at most 1% of its capacity (the peaks of sites moved up to it; the placer's budget guard keeps
// the rest). At the cap the leaders decide whatever the cost: the placer and the replay would
// otherwise take whichever site's assignment comes first. Rewrites tier_of for the sites that
// follow their key's leader.
uint32_t ChooseSiteDepth(const profile::ProfileChunk& p, const std::vector<PlanItem>& all,
                         const std::vector<uint64_t>& quota, const std::vector<TierSpec>& tiers,
                         const PlanOptions& options, std::vector<int>* tier_of) {
  uint32_t deepest = 1;
  for (const auto& s : p.sites()) deepest = std::max<uint32_t>(deepest, s.stack_size());
  const uint32_t limit = std::min(options.max_site_depth, deepest);
  const size_t n = all.size();
  double total = 0;
  for (const auto& item : all) total += item.value;
  auto leads = [&](size_t a, size_t b) {  // whether site a leads a key rather than site b
    if (all[a].value != all[b].value) return all[a].value > all[b].value;
    const uint64_t aa = p.sites(static_cast<int>(a)).allocations();
    const uint64_t ab = p.sites(static_cast<int>(b)).allocations();
    return aa != ab ? aa > ab : a < b;
  };
  auto same = [&](size_t a, size_t b) {
    return a == b || ((*tier_of)[a] == (*tier_of)[b] && quota[a] == 0 && quota[b] == 0);
  };
  std::vector<size_t> leader_of(n);
  for (uint32_t d = 1; d <= limit; ++d) {
    std::unordered_map<std::string, size_t> leader;
    leader.reserve(n);
    std::vector<std::string> keys(n);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = LocationKey(p.sites(static_cast<int>(i)), d);
      auto [it, added] = leader.emplace(keys[i], i);
      if (!added && leads(i, it->second)) it->second = i;
    }
    double lost = 0;
    bool quota_moved = false;
    std::vector<double> moved_up(tiers.size(), 0);
    for (size_t i = 0; i < n; ++i) {
      const size_t j = leader_of[i] = leader[keys[i]];
      if (same(i, j)) continue;
      if (quota[i] || quota[j]) quota_moved = true;
      if ((*tier_of)[j] > (*tier_of)[i]) {
        lost += all[i].value;
      } else {
        moved_up[(*tier_of)[j]] += double(all[i].peak);
      }
    }
    bool moved = quota_moved || lost > 0;
    for (double bytes : moved_up) moved = moved || bytes > 0;
    bool fits = !moved || (!quota_moved && options.depth_loss_share > 0 &&
                           lost <= options.depth_loss_share * total);
    for (size_t t = 0; t < tiers.size(); ++t) {
      if (tiers[t].capacity_bytes != 0 && moved_up[t] > 0.01 * double(tiers[t].capacity_bytes)) {
        fits = false;
      }
    }
    if (!fits && d < limit) continue;
    for (size_t i = 0; i < n; ++i) {
      const size_t j = leader_of[i];
      if (!same(i, j) && quota[i] == 0 && quota[j] == 0) (*tier_of)[i] = (*tier_of)[j];
    }
    return d;
  }
  return limit;
}

}  // namespace

std::vector<PlanItem> PlanItems(const profile::ProfileChunk& profile) {
  std::vector<PlanItem> items;
  size_t bins = 1;
  for (const auto& s : profile.sites()) bins = std::max<size_t>(bins, s.live_histogram_size());
  const uint64_t bin_ns = std::max<uint64_t>(1, profile.metadata().bin_ns());
  for (int i = 0; i < profile.sites_size(); ++i) {
    const auto& s = profile.sites(i);
    PlanItem item;
    item.index = i;
    item.value = double(SiteSamples(s));
    item.peak = s.peak_live_bytes();
    item.first_alloc_ns = s.first_alloc_ns();
    item.mean_size = s.allocations() ? double(s.bytes()) / double(s.allocations()) : 0;
    item.size_by_bin.assign(bins, 0);
    item.samples_by_bin.assign(bins, 0);
    if (s.live_histogram_size() == 0) {
      // No time information: the site needs its peak all the time.
      std::fill(item.size_by_bin.begin(), item.size_by_bin.end(), item.peak);
      item.samples_by_bin[0] = static_cast<uint32_t>(SiteSamples(s));
    } else {
      for (int b = 0; b < s.live_histogram_size(); ++b) item.size_by_bin[b] = s.live_histogram(b);
      for (int b = 0; b < s.histogram_size() && size_t(b) < bins; ++b) {
        item.samples_by_bin[b] = s.histogram(b);
      }
      // live_histogram holds end-of-bin values; the peak may fall inside a bin.
      const size_t peak_bin = std::min<size_t>(bins - 1, s.peak_time_ns() / bin_ns);
      item.size_by_bin[peak_bin] = std::max(item.size_by_bin[peak_bin], item.peak);
      uint64_t hist_total = 0;
      for (uint32_t h : item.samples_by_bin) hist_total += h;
      item.value = double(hist_total);
    }
    items.push_back(std::move(item));
  }
  return items;
}

void MakePlan(const PlanOptions& options, profile::ProfileChunk* profile) {
  const auto& tiers = options.tiers;
  if (tiers.empty()) throw std::invalid_argument("no tier given (use --tier NAME=SIZE)");
  for (size_t t = 0; t + 1 < tiers.size(); ++t) {
    if (tiers[t].capacity_bytes == 0) {
      throw std::invalid_argument("tier '" + tiers[t].name +
                                  "' has no limit but is not the last tier");
    }
  }
  std::set<std::string> names;
  for (const auto& t : tiers) {
    if (!names.insert(t.name).second)
      throw std::invalid_argument("tier '" + t.name + "' given twice");
  }
  const std::vector<PlanItem> all = PlanItems(*profile);
  // What the fills rank by: the samples, or for kRandom a random density.
  std::vector<PlanItem> ranked = all;
  const bool random = options.method == PlanOptions::Method::kRandom;
  if (random) {
    for (size_t i = 0; i < ranked.size(); ++i) {
      const uint64_t h = common::MixHash(common::MixHash(options.random_seed, i), 0x5eed);
      const double uniform = double((h >> 11) + 1) / double(uint64_t{1} << 53);
      ranked[i].value = uniform * double(std::max<uint64_t>(1, ranked[i].peak));
    }
  }
  const double per_sample =
      profile->metadata().accesses_per_sample() > 0 ? profile->metadata().accesses_per_sample() : 1;

  // Fill tiers fastest first with what is left.
  std::vector<int> tier_of(all.size(), static_cast<int>(tiers.size()) - 1);
  std::vector<uint64_t> quota(all.size(), 0);
  std::vector<size_t> left(all.size());
  std::iota(left.begin(), left.end(), 0);
  std::string method = "greedy";
  std::string stopped_tiers;  // tiers whose exact search ran out of nodes
  const bool all_but_cold = options.method == PlanOptions::Method::kAllButCold;
  if (all_but_cold && tiers.size() > 1) {
    double value = 0, bytes = 0;
    for (const auto& item : all) {
      value += item.value;
      bytes += double(item.peak);
    }
    const double mean = bytes > 0 ? value / bytes : 0;
    // Cold only when even the upper bound of its samples is: a site sampled rarely (or never) in
    // the learned run may be warm in the next, and a small one costs the fast tier little.
    for (size_t i = 0; i < all.size(); ++i) {
      const double density = PoissonHigh(all[i].value) / double(std::max<uint64_t>(1, all[i].peak));
      if (density >= options.cold_share * mean) tier_of[i] = 0;
    }
    method = "all but cold";
  }
  for (size_t t = 0; !all_but_cold && t + 1 < tiers.size(); ++t) {
    const uint64_t room = static_cast<uint64_t>(double(tiers[t].capacity_bytes) *
                                                std::clamp(options.fill_share, 0.0, 1.0));
    std::vector<PlanItem> pool;
    for (size_t i : left) pool.push_back(ranked[i]);
    size_t candidates = 0;
    for (const auto& item : pool) candidates += item.value > 0;
    const bool exact =
        options.method == PlanOptions::Method::kExact ||
        (options.method == PlanOptions::Method::kAuto && candidates <= options.exact_max_sites);
    if (random && t == 0) method = "random";
    if (exact && t == 0) method = "knapsack";
    std::vector<size_t> chosen;
    if (exact) {
      ExactResult r = ExactSearch(pool, room, options.exact_max_nodes);
      if (!r.complete) stopped_tiers += (stopped_tiers.empty() ? "" : ", ") + tiers[t].name;
      chosen = std::move(r.chosen);
    } else {
      chosen = GreedyFill(pool, room);
    }
    // Whole sites, then what room is left as quotas; or, when sites may be split anyway, the
    // density order with quotas from the start (a fractional knapsack): whichever holds more.
    std::vector<Quota> quotas = QuotaFill(pool, chosen, room, options.min_quota_bytes);
    if (options.min_quota_bytes > 0) {
      std::vector<Quota> fractional = QuotaFill(pool, {}, room, options.min_quota_bytes);
      if (QuotaValue(pool, {}, fractional) > QuotaValue(pool, chosen, quotas)) {
        chosen.clear();
        quotas.clear();
        for (const Quota& q : fractional) {
          if (q.bytes >= pool[q.item].peak) {
            chosen.push_back(q.item);
          } else {
            quotas.push_back(q);
          }
        }
      }
    }
    std::vector<bool> taken(pool.size());
    for (size_t c : chosen) {
      taken[c] = true;
      tier_of[left[c]] = static_cast<int>(t);
    }
    for (const Quota& q : quotas) {
      taken[q.item] = true;
      tier_of[left[q.item]] = static_cast<int>(t);
      quota[left[q.item]] = q.bytes;
    }
    std::vector<size_t> rest;
    for (size_t k = 0; k < left.size(); ++k) {
      if (!taken[k]) rest.push_back(left[k]);
    }
    left.swap(rest);
  }

  profile->clear_tiers();
  for (const auto& t : tiers) {
    auto* tier = profile->add_tiers();
    tier->set_name(t.name);
    tier->set_capacity_bytes(t.capacity_bytes);
    tier->set_latency_ns(t.latency_ns);
    tier->set_policy("bind");
  }
  profile::Plan* plan = profile->mutable_plan();
  plan->Clear();
  plan->set_default_tier(options.unknown_to_first_tier ? tiers.front().name : tiers.back().name);
  if (!stopped_tiers.empty()) {
    method += " (stopped after " + std::to_string(options.exact_max_nodes) + " nodes on " +
              stopped_tiers + ": best found, not proven optimal)";
  }
  plan->set_method(tiers.size() > 1 ? method : "single-tier");
  plan->set_site_depth(ChooseSiteDepth(*profile, all, quota, tiers, options, &tier_of));
  for (size_t i = 0; i < all.size(); ++i) {
    auto* a = plan->add_assignments();
    a->set_site_id(profile->sites(static_cast<int>(i)).id());
    a->set_tier(tiers[tier_of[i]].name);
    a->set_quota_bytes(quota[i]);
  }
  const Score score = ScoreOf(all, tier_of, quota, tiers, per_sample);
  plan->set_fast_share(score.fast_share);
  plan->set_stall_saved_ns(score.stall_saved_ns);

  // Baselines, for two tiers: the fast one and everything else.
  const uint64_t fast_capacity = tiers.size() > 1 ? tiers[0].capacity_bytes : UINT64_MAX;
  double total = 0;
  for (const auto& item : all) total += item.value;
  auto add_baseline = [&](const char* name, const std::vector<size_t>& fast) {
    std::vector<int> where(all.size(), static_cast<int>(tiers.size()) - 1);
    for (size_t i : fast) where[i] = 0;
    const Score s = ScoreOf(all, where, {}, tiers, per_sample);
    auto* b = plan->add_baselines();
    b->set_name(name);
    b->set_fast_share(s.fast_share);
    b->set_stall_saved_ns(s.stall_saved_ns);
  };
  add_baseline("first-touch", AllocationOrderFill(all, fast_capacity, UINT64_MAX));
  add_baseline("size-threshold", AllocationOrderFill(all, fast_capacity, options.size_threshold));
  const double oracle = tiers.size() > 1 ? OracleValue(all, fast_capacity) : total;
  auto* b = plan->add_baselines();
  b->set_name("oracle");
  b->set_fast_share(total > 0 ? oracle / total : 0);
  b->set_stall_saved_ns(oracle * per_sample * (tiers.back().latency_ns - tiers[0].latency_ns));
}

}  // namespace tierscope::analyzer
