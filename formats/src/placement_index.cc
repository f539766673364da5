#include "tierscope/formats/placement_index.h"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tierscope/common/site_key.h"

namespace tierscope::formats {
namespace {

// Each module once, in the order first met, with the build-id it was first met with.
class ModuleList {
 public:
  explicit ModuleList(google::protobuf::RepeatedPtrField<profile::ModuleRef>* out) : out_(out) {}
  void Note(const profile::Location& loc) {
    const std::string_view name = common::BaseName(loc.module());
    if (seen_.find(name) != seen_.end()) return;  // nearly every frame: no string made
    seen_.emplace(name);
    profile::ModuleRef* m = out_->Add();
    m->set_name(std::string(name));
    m->set_build_id(loc.build_id());
  }

 private:
  google::protobuf::RepeatedPtrField<profile::ModuleRef>* out_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace

uint32_t PlanKeyDepth(const profile::ProfileChunk& profile) {
  const uint32_t d =
      profile.plan().site_depth() ? profile.plan().site_depth() : profile.metadata().site_depth();
  return std::clamp<uint32_t>(d, 1, 8);
}

profile::PlacementIndex IndexPlan(const profile::ProfileChunk& profile, uint32_t depth) {
  profile::PlacementIndex index;
  index.set_site_depth(depth);
  std::unordered_map<uint64_t, const profile::Site*> sites;
  sites.reserve(static_cast<size_t>(profile.sites_size()));
  ModuleList modules(index.mutable_modules());
  for (const auto& s : profile.sites()) {
    sites[s.id()] = &s;  // as the replay's PlanDecisions: a repeated id, the last one
    for (const auto& loc : s.stack()) modules.Note(loc);
  }
  ModuleList key_modules(index.mutable_key_modules());
  uint64_t assigned_allocations = 0;
  std::set<uint64_t> assigned;
  const auto& assignments = profile.plan().assignments();
  for (int i = 0; i < assignments.size(); ++i) {
    auto it = sites.find(assignments[i].site_id());
    if (it == sites.end()) {
      index.add_keys(0);
      index.add_allocations(0);
      index.add_missing(static_cast<uint32_t>(i));
      continue;
    }
    const profile::Site& site = *it->second;
    for (int f = 0; f < site.stack_size() && f < static_cast<int>(depth); ++f) {
      key_modules.Note(site.stack(f));
    }
    index.add_keys(common::SiteMatchKey(site, depth));
    // A site assigned twice counts once, with its first assignment (the first of a key wins).
    const bool first = assigned.insert(site.id()).second;
    index.add_allocations(first ? site.allocations() : 0);
    if (first) assigned_allocations += site.allocations();
  }
  uint64_t all = 0;
  for (const auto& s : profile.sites()) all += s.allocations();
  index.set_other_allocations(all - assigned_allocations);
  return index;
}

bool IndexUsable(const profile::Plan& plan, uint32_t depth) {
  const profile::PlacementIndex& index = plan.index();
  return plan.has_index() && index.site_depth() == depth &&
         index.keys_size() == plan.assignments_size() &&
         index.allocations_size() == plan.assignments_size();
}

}  // namespace tierscope::formats
