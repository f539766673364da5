#include "sites/site_table.h"

namespace tierscope::analyzer {

SiteTable::SiteTable(const std::unordered_map<uint32_t, trace::Stack>& stacks,
                     const ModuleIndex& modules, uint32_t site_depth, const TimeBins& bins)
    : stacks_(stacks), bins_(bins), keyer_(modules, site_depth) {}

uint32_t SiteTable::Add(uint32_t stack_id) {
  auto sparse = site_of_sparse_stack_.find(stack_id);
  if (sparse != site_of_sparse_stack_.end()) return sparse->second;
  std::vector<uint64_t> frames;
  auto stack = stacks_.find(stack_id);
  if (stack != stacks_.end())
    frames.assign(stack->second.frames().begin(), stack->second.frames().end());
  std::vector<uint64_t> kept = keyer_.Truncate(frames);
  auto [it, added] = site_of_key_.emplace(keyer_.Key(kept), static_cast<uint32_t>(sites_.size()));
  if (added) sites_.push_back(std::make_unique<SiteAccumulator>(std::move(kept), bins_));
  if (stack_id < kDenseStackIds) {
    if (stack_id >= site_by_stack_.size()) site_by_stack_.resize(stack_id + 1, kNoSite);
    site_by_stack_[stack_id] = it->second;
  } else {
    site_of_sparse_stack_.emplace(stack_id, it->second);
  }
  return it->second;
}

void SiteTable::WriteTo(uint64_t end_ns, double accesses_per_sample,
                        profile::ProfileChunk* profile) const {
  for (size_t s = 0; s < sites_.size(); ++s) {
    profile::Site* out = profile->add_sites();
    out->set_id(s + 1);
    keyer_.Describe(sites_[s]->frames(), out);
    sites_[s]->Finish(end_ns, accesses_per_sample, out);
  }
}

}  // namespace tierscope::analyzer
