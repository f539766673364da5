#include "tierscope/formats/placement_index.h"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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

// The frames of a site's key: its innermost `depth` locations as (module identity, offset).
struct KeyFrames {
  common::ModuleOffset frames[8];
  size_t n = 0;
};

KeyFrames FramesOf(const profile::Site& site, uint32_t depth) {
  KeyFrames k;
  k.n = common::SiteKeyFrames(site, std::min<uint32_t>(depth, 8), k.frames);
  return k;
}

// The per-prefix rules (profile.proto, PlacementIndex.prefix_keys), depth by depth from the
// innermost frame: a prefix whose sites all get the same decision (their full key's first
// assignment, or none) is decided there, and its sites are not looked at deeper; a prefix whose
// sites differ gets "look deeper" (-1). A decision is an assignment that stands for its tier. Rules
// are written for decisions that name an assignment and for -1: a prefix without a rule means "no
// assignment".
void AddPrefixRules(const std::vector<const profile::Site*>& sites,
                    const std::vector<int32_t>& decision, uint32_t depth,
                    profile::PlacementIndex* index) {
  constexpr int32_t kMixed = -2;
  std::vector<KeyFrames> frames;
  frames.reserve(sites.size());
  for (const profile::Site* s : sites) frames.push_back(FramesOf(*s, depth));
  std::vector<size_t> open(sites.size());  // the sites whose prefix so far is mixed
  for (size_t i = 0; i < open.size(); ++i) open[i] = i;
  for (uint32_t d = 1; d < depth && !open.empty(); ++d) {
    std::unordered_map<uint64_t, int32_t> node;  // prefix key -> decision, or kMixed
    std::vector<uint64_t> order;                 // the prefixes in the order first met
    std::vector<uint64_t> key_of(open.size(), 0);
    for (size_t j = 0; j < open.size(); ++j) {
      const KeyFrames& k = frames[open[j]];
      if (k.n < d) continue;  // the stack ended above: its full key decides it
      key_of[j] = common::PrefixKey(common::HashKey(k.frames, d));
      auto [it, added] = node.emplace(key_of[j], decision[open[j]]);
      if (added) {
        order.push_back(key_of[j]);
      } else if (it->second != decision[open[j]]) {
        it->second = kMixed;
      }
    }
    for (uint64_t key : order) {
      const int32_t dec = node[key];
      if (dec == kMixed || dec >= 0) {
        index->add_prefix_keys(key);
        index->add_prefix_assignments(dec == kMixed ? -1 : dec);
      }
    }
    std::vector<size_t> next;
    for (size_t j = 0; j < open.size(); ++j) {
      if (frames[open[j]].n >= d && node[key_of[j]] == kMixed) next.push_back(open[j]);
    }
    open.swap(next);
  }
  index->set_has_prefix_rules(true);
}

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
  // Full key -> the assignment that stands for its first one in the prefix rules: the first
  // assignment of the same tier (the placer gives them one code), or itself when it has a quota
  // (a quota is a site's own).
  std::unordered_map<uint64_t, int32_t> first_of_key;
  std::unordered_map<std::string, int32_t> first_of_tier;
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
    const uint64_t key = common::SiteMatchKey(site, depth);
    index.add_keys(key);
    if (first_of_key.count(key) == 0) {
      const profile::Assignment& a = assignments[i];
      first_of_key[key] = a.quota_bytes() ? i : first_of_tier.emplace(a.tier(), i).first->second;
    }
    // A site assigned twice counts once, with its first assignment (the first of a key wins).
    const bool first = assigned.insert(site.id()).second;
    index.add_allocations(first ? site.allocations() : 0);
    if (first) assigned_allocations += site.allocations();
  }
  uint64_t all = 0;
  for (const auto& s : profile.sites()) all += s.allocations();
  index.set_other_allocations(all - assigned_allocations);
  // Each site once (its id's last), in the profile's order, with the assignment its key gets.
  std::vector<const profile::Site*> unique;
  std::vector<int32_t> decision;
  for (const auto& s : profile.sites()) {
    if (sites[s.id()] != &s) continue;
    auto it = first_of_key.find(common::SiteMatchKey(s, depth));
    unique.push_back(&s);
    decision.push_back(it == first_of_key.end() ? -1 : it->second);
  }
  AddPrefixRules(unique, decision, depth, &index);
  return index;
}

bool IndexUsable(const profile::Plan& plan, uint32_t depth) {
  const profile::PlacementIndex& index = plan.index();
  return plan.has_index() && index.site_depth() == depth &&
         index.keys_size() == plan.assignments_size() &&
         index.allocations_size() == plan.assignments_size();
}

}  // namespace tierscope::formats
