#include "replay/plan_decisions.h"

#include <algorithm>

#include "tierscope/common/site_key.h"
#include "tierscope/formats/placement_index.h"

namespace tierscope::analyzer {

PlanDecisions::PlanDecisions(const profile::ProfileChunk& planned,
                             const std::vector<TierSpec>& tiers)
    : tiers_(tiers) {
  const auto& plan = planned.plan();
  // As the placer: the plan's depth, else the profile's, at least 1.
  depth_ = plan.site_depth() ? plan.site_depth() : planned.metadata().site_depth();
  depth_ = std::clamp<uint32_t>(depth_, 1, 8);
  min_size_ = plan.min_size();
  unknown_tier_ = TierNamed(plan.default_tier());
  std::unordered_map<uint64_t, const profile::Site*> sites;
  for (const auto& s : planned.sites()) sites[s.id()] = &s;
  std::vector<uint64_t> key_of_assignment(static_cast<size_t>(plan.assignments_size()), 0);
  for (int i = 0; i < plan.assignments_size(); ++i) {
    const profile::Assignment& a = plan.assignments(i);
    auto it = sites.find(a.site_id());
    if (it == sites.end()) continue;
    // The first assignment of a key wins, as in the placer's key table.
    Decision d{TierNamed(a.tier()), true, it->second, a.quota_bytes(), 0};
    if (d.quota) d.quota_id = static_cast<uint32_t>(quotas_);
    const uint64_t key = common::SiteMatchKey(*it->second, depth_);
    key_of_assignment[static_cast<size_t>(i)] = key;
    if (by_key_.emplace(key, d).second && d.quota) ++quotas_;
  }
  // The per-prefix rules the placer follows, made from the sites as the writer makes them
  // (formats/placement_index.cc): a plan edited in memory (the viewer's what-if) may carry an
  // index of its assignments before the edit. The stored ones only when there are no sites.
  const bool stored = planned.sites_size() == 0 && formats::IndexUsable(plan, depth_) &&
                      plan.index().has_prefix_rules();
  const profile::PlacementIndex made =
      stored ? profile::PlacementIndex() : formats::IndexPlan(planned, depth_);
  const profile::PlacementIndex& index = stored ? plan.index() : made;
  has_prefix_rules_ = index.has_prefix_rules();
  const int rules = std::min(index.prefix_keys_size(), index.prefix_assignments_size());
  for (int r = 0; r < rules; ++r) {
    const int32_t a = index.prefix_assignments(r);
    PrefixRule rule;
    rule.deeper = a < 0;
    if (a >= 0 && static_cast<size_t>(a) < key_of_assignment.size()) {
      rule.key = key_of_assignment[static_cast<size_t>(a)];
    }
    prefix_.emplace(index.prefix_keys(r), rule);
  }
}

int PlanDecisions::TierNamed(const std::string& name) const {
  for (size_t t = 0; t < tiers_.size(); ++t) {
    if (tiers_[t].name == name) return static_cast<int>(t);
  }
  return kDefault;  // "default", empty, or a tier this replay does not have
}

size_t PlanDecisions::KeyFramesOf(const std::vector<uint64_t>& frames, const ModuleIndex& modules,
                                  common::ModuleOffset* key) const {
  const size_t n = std::min<size_t>(frames.size(), depth_);
  for (size_t i = 0; i < n; ++i) {
    key[i] = common::ModuleOffset{};
    const int m = modules.Find(frames[i]);
    if (m < 0) continue;  // the placer's "no module": identity 0, offset 0
    const trace::Module& module = modules.modules()[m];
    key[i].identity = common::ModuleIdentity(module.build_id(), module.path());
    key[i].offset = frames[i] - module.load_bias();
  }
  return n;
}

uint64_t PlanDecisions::KeyOf(const std::vector<uint64_t>& frames,
                              const ModuleIndex& modules) const {
  common::ModuleOffset key[8];
  return common::HashKey(key, KeyFramesOf(frames, modules, key));
}

PlanDecisions::Decision PlanDecisions::DecideStack(const std::vector<uint64_t>& frames,
                                                   const ModuleIndex& modules) const {
  common::ModuleOffset key[8];
  const size_t n = KeyFramesOf(frames, modules, key);
  // As the placer (allocation_slow_path.cc, CodeByPrefixes): each prefix shorter than the key
  // depth that the stack has, innermost first, until one decides.
  for (size_t d = 1; has_prefix_rules_ && d <= n && d < depth_; ++d) {
    auto it = prefix_.find(common::PrefixKey(common::HashKey(key, d)));
    if (it == prefix_.end()) return Decision{unknown_tier_, false, nullptr};
    if (it->second.deeper) continue;
    // The placement the rule names; the stack's own site when the plan names it (the same
    // placement: a rule decides only where every site below it gets one), for the per-site tally.
    auto own = by_key_.find(common::HashKey(key, n));
    return own != by_key_.end() ? own->second : Decide(it->second.key);
  }
  return Decide(common::HashKey(key, n));
}

PlanDecisions::Decision PlanDecisions::Decide(uint64_t key) const {
  auto it = by_key_.find(key);
  if (it != by_key_.end()) return it->second;
  return Decision{unknown_tier_, false, nullptr};
}

}  // namespace tierscope::analyzer
