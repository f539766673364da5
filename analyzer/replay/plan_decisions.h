// The placer's decision for one allocation, made from a trace's stack instead of live return
// addresses: the same site key (common/site_key.h) at the plan's site depth, the same tier for
// sites the plan does not name (Plan.default_tier), the same size floor (Plan.min_size). This is
// what lets `tierscope evaluate` score the plan the placer would enforce, not a model of it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "profile.pb.h"
#include "sites/module_index.h"
#include "tierscope/analyzer/tiers.h"
#include "tierscope/common/site_key.h"

namespace tierscope::analyzer {

class PlanDecisions {
 public:
  static constexpr int kDefault = -1;  // the kernel's placement (jemalloc's normal arenas)

  struct Decision {
    int tier = kDefault;
    bool known = false;                   // the plan names the site
    const profile::Site* site = nullptr;  // the plan's site, when known
    uint64_t quota = 0;                   // live bytes the site may hold on `tier`; 0: no limit
    uint32_t quota_id = 0;                // which quota counter (one per site with a quota)
  };

  // `tiers` are the ones the replay uses; the plan's tier names are looked up among them.
  PlanDecisions(const profile::ProfileChunk& planned, const std::vector<TierSpec>& tiers);

  uint32_t depth() const { return depth_; }
  uint64_t min_size() const { return min_size_; }
  // The placer's key of a recorded stack (innermost first), its modules from the trace.
  uint64_t KeyOf(const std::vector<uint64_t>& frames, const ModuleIndex& modules) const;
  // The placer's decision for a recorded stack: the plan's per-prefix rules from the innermost
  // frame out (PlacementIndex.prefix_keys), then its key.
  Decision DecideStack(const std::vector<uint64_t>& frames, const ModuleIndex& modules) const;
  Decision Decide(uint64_t key) const;
  size_t quotas() const { return quotas_; }

 private:
  int TierNamed(const std::string& name) const;
  size_t KeyFramesOf(const std::vector<uint64_t>& frames, const ModuleIndex& modules,
                     common::ModuleOffset* key) const;

  struct PrefixRule {
    bool deeper = false;
    uint64_t key = 0;  // the deciding assignment's key (by_key_), when not deeper
  };

  const std::vector<TierSpec>& tiers_;
  uint32_t depth_ = 1;
  uint64_t min_size_ = 0;
  int unknown_tier_ = kDefault;
  size_t quotas_ = 0;
  std::unordered_map<uint64_t, Decision> by_key_;
  bool has_prefix_rules_ = false;
  std::unordered_map<uint64_t, PrefixRule> prefix_;
};

}  // namespace tierscope::analyzer
