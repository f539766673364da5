// The plan's per-prefix rules (PlacementIndex.prefix_keys, placement_index.cc): where the
// innermost frames decide a stack's placement, and where the placer must look deeper.
#include "tierscope/formats/placement_index.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "tierscope/common/site_key.h"

namespace tierscope::formats {
namespace {

constexpr const char* kModule = "/usr/bin/prog";

void AddSite(profile::ProfileChunk* p, uint64_t id, const std::vector<uint64_t>& offsets) {
  auto* site = p->add_sites();
  site->set_id(id);
  for (uint64_t offset : offsets) {
    auto* loc = site->add_stack();
    loc->set_module(kModule);
    loc->set_offset(offset);
  }
}

void Assign(profile::ProfileChunk* p, uint64_t site, const char* tier, uint64_t quota = 0) {
  auto* a = p->mutable_plan()->add_assignments();
  a->set_site_id(site);
  a->set_tier(tier);
  a->set_quota_bytes(quota);
}

uint64_t Prefix(const std::vector<uint64_t>& offsets) {
  std::vector<common::ModuleOffset> frames;
  for (uint64_t offset : offsets) {
    frames.push_back({common::ModuleIdentity("", kModule), offset});
  }
  return common::PrefixKey(common::HashKey(frames.data(), frames.size()));
}

// Offsets are letters: W, A, ... as 0x57, 0x41, ...
TEST(PlacementIndex, RulesSayWhereTheInnermostFramesDecide) {
  profile::ProfileChunk p;
  AddSite(&p, 1, {'W', 'A', 'X'});  // W: its callers go apart -> look deeper
  AddSite(&p, 2, {'W', 'B', 'Y'});
  AddSite(&p, 3, {'W', 'E', 'Q'});  // unplanned under W: no rule, the default for unknown sites
  AddSite(&p, 4, {'B', 'C', 'D'});  // B: both fast (two assignments, one tier) -> decided
  AddSite(&p, 5, {'B', 'C', 'E'});
  AddSite(&p, 6, {'F', 'G', 'H'});  // F: nothing planned -> no rule
  AddSite(&p, 7, {'K', 'L', 'M'});  // K: fast with a quota and fast without -> deeper, twice
  AddSite(&p, 8, {'K', 'L', 'N'});
  AddSite(&p, 9, {'Z'});        // a stack of one frame: decided by its first
  Assign(&p, 1, "fast");        // 0
  Assign(&p, 2, "slow");        // 1
  Assign(&p, 4, "fast");        // 2
  Assign(&p, 5, "fast");        // 3
  Assign(&p, 7, "fast", 4096);  // 4: a quota is the site's own
  Assign(&p, 8, "fast");        // 5
  Assign(&p, 9, "slow");        // 6
  const profile::PlacementIndex index = IndexPlan(p, 3);
  ASSERT_TRUE(index.has_prefix_rules());
  ASSERT_EQ(index.prefix_keys_size(), index.prefix_assignments_size());
  std::map<uint64_t, int32_t> rules;
  for (int i = 0; i < index.prefix_keys_size(); ++i) {
    EXPECT_TRUE(rules.emplace(index.prefix_keys(i), index.prefix_assignments(i)).second);
  }
  // A decision names the first assignment of its tier: both of B's are "fast" as 0 is.
  const std::map<uint64_t, int32_t> expected = {
      {Prefix({'W'}), -1},     {Prefix({'B'}), 0},      {Prefix({'K'}), -1},     {Prefix({'Z'}), 1},
      {Prefix({'W', 'A'}), 0}, {Prefix({'W', 'B'}), 1}, {Prefix({'K', 'L'}), -1}};
  EXPECT_EQ(rules, expected);

  // At depth 1 there is nothing to look deeper for: no rules, the keys decide.
  EXPECT_EQ(IndexPlan(p, 1).prefix_keys_size(), 0);
  // A site planned under F makes F's rule.
  Assign(&p, 6, "slow");
  EXPECT_EQ(IndexPlan(p, 3).prefix_keys_size(), index.prefix_keys_size() + 1);
}

}  // namespace
}  // namespace tierscope::formats
