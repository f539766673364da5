// The profile's sites as the join meets them: an allocation's stack id gives its site (the stack
// cut to the site depth and keyed, so stacks that differ only deeper share one), each with the
// accumulator that keeps its statistics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "profile.pb.h"
#include "sites/site_accumulator.h"
#include "sites/site_keyer.h"
#include "trace.pb.h"

namespace tierscope::analyzer {

class SiteTable {
 public:
  // `stacks` (the trace's) and `bins` must outlive the table.
  SiteTable(const std::unordered_map<uint32_t, trace::Stack>& stacks, const ModuleIndex& modules,
            uint32_t site_depth, const TimeBins& bins);

  // The site (0, 1, ... in the order first met) of an allocation with this stack. A stack id the
  // trace does not hold gets the site of the empty stack.
  uint32_t SiteOf(uint32_t stack_id) {
    if (stack_id < site_by_stack_.size() && site_by_stack_[stack_id] != kNoSite) {
      return site_by_stack_[stack_id];
    }
    return Add(stack_id);
  }
  SiteAccumulator& at(uint32_t site) { return *sites_[site]; }
  size_t size() const { return sites_.size(); }

  // Appends every site to `profile` (Site.id = its number + 1) with its finished statistics.
  void WriteTo(uint64_t end_ns, double accesses_per_sample, profile::ProfileChunk* profile) const;

 private:
  // The recorder hands out stack ids densely from 1: a vector finds an allocation's site without
  // hashing. Ids too large to index (a hostile or foreign trace) fall back to a hash map.
  static constexpr uint32_t kDenseStackIds = 1u << 22;
  static constexpr uint32_t kNoSite = UINT32_MAX;

  uint32_t Add(uint32_t stack_id);

  const std::unordered_map<uint32_t, trace::Stack>& stacks_;
  const TimeBins& bins_;
  SiteKeyer keyer_;
  std::vector<std::unique_ptr<SiteAccumulator>> sites_;
  std::unordered_map<std::string, uint32_t> site_of_key_;
  std::vector<uint32_t> site_by_stack_;
  std::unordered_map<uint32_t, uint32_t> site_of_sparse_stack_;
};

}  // namespace tierscope::analyzer
