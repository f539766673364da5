#include "replay/plan_decisions.h"

#include <algorithm>

#include "tierscope/common/site_key.h"

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
  for (const auto& a : plan.assignments()) {
    auto it = sites.find(a.site_id());
    if (it == sites.end()) continue;
    // The first assignment of a key wins, as in the placer's key table.
    Decision d{TierNamed(a.tier()), true, it->second, a.quota_bytes(), 0};
    if (d.quota) d.quota_id = static_cast<uint32_t>(quotas_);
    if (by_key_.emplace(common::SiteMatchKey(*it->second, depth_), d).second && d.quota) {
      ++quotas_;
    }
  }
}

int PlanDecisions::TierNamed(const std::string& name) const {
  for (size_t t = 0; t < tiers_.size(); ++t) {
    if (tiers_[t].name == name) return static_cast<int>(t);
  }
  return kDefault;  // "default", empty, or a tier this replay does not have
}

uint64_t PlanDecisions::KeyOf(const std::vector<uint64_t>& frames,
                              const ModuleIndex& modules) const {
  common::ModuleOffset key[8];
  const size_t n = std::min<size_t>(frames.size(), depth_);
  for (size_t i = 0; i < n; ++i) {
    const int m = modules.Find(frames[i]);
    if (m < 0) continue;  // the placer's "no module": identity 0, offset 0
    const trace::Module& module = modules.modules()[m];
    key[i].identity = common::ModuleIdentity(module.build_id(), module.path());
    key[i].offset = frames[i] - module.load_bias();
  }
  return common::HashKey(key, n);
}

PlanDecisions::Decision PlanDecisions::Decide(uint64_t key) const {
  auto it = by_key_.find(key);
  if (it != by_key_.end()) return it->second;
  return Decision{unknown_tier_, false, nullptr};
}

}  // namespace tierscope::analyzer
