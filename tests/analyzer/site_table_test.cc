// SiteTable: stacks that agree on their innermost site_depth frames share a site, numbered in the
// order first met; stack ids past the dense range and ids the trace lacks still find theirs.
#include <gtest/gtest.h>

#include "sites/site_table.h"

namespace tierscope::analyzer {
namespace {

constexpr uint64_t kText = 0x400000;

std::vector<trace::Module> OneModule() {
  trace::Module module;
  module.set_path("/bin/prog");
  module.set_build_id("\x01\x02");
  auto* segment = module.add_segments();
  segment->set_start(kText);
  segment->set_end(kText + 0x100000);
  segment->set_executable(true);
  return {module};
}

trace::Stack StackOf(uint32_t id, std::vector<uint64_t> frames) {
  trace::Stack stack;
  stack.set_id(id);
  for (uint64_t f : frames) stack.add_frames(f);
  return stack;
}

struct Fixture {
  ModuleIndex modules{OneModule()};
  TimeBins bins;
  std::unordered_map<uint32_t, trace::Stack> stacks = {
      {1, StackOf(1, {kText + 0x10, kText + 0x900})},
      {2, StackOf(2, {kText + 0x10, kText + 0xa00})},  // same innermost frame as stack 1
      {3, StackOf(3, {kText + 0x20})},
      {1u << 30, StackOf(1u << 30, {kText + 0x20, kText + 0x900})},  // past the dense ids
  };
};

TEST(SiteTable, StacksSharingTheInnermostFramesShareASite) {
  Fixture f;
  SiteTable depth_one(f.stacks, f.modules, 1, f.bins);
  EXPECT_EQ(depth_one.SiteOf(1), 0u);
  EXPECT_EQ(depth_one.SiteOf(2), 0u);
  EXPECT_EQ(depth_one.SiteOf(3), 1u);
  EXPECT_EQ(depth_one.SiteOf(1u << 30), 1u);
  EXPECT_EQ(depth_one.SiteOf(1), 0u);  // met again: the same
  EXPECT_EQ(depth_one.size(), 2u);

  SiteTable whole_stack(f.stacks, f.modules, 0, f.bins);
  EXPECT_EQ(whole_stack.SiteOf(1), 0u);
  EXPECT_EQ(whole_stack.SiteOf(2), 1u);
  EXPECT_EQ(whole_stack.SiteOf(3), 2u);
  EXPECT_EQ(whole_stack.SiteOf(1u << 30), 3u);
  EXPECT_EQ(whole_stack.SiteOf(1u << 30), 3u);
}

TEST(SiteTable, AStackTheTraceLacksIsTheEmptyStack) {
  Fixture f;
  SiteTable table(f.stacks, f.modules, 0, f.bins);
  EXPECT_EQ(table.SiteOf(77), 0u);
  EXPECT_EQ(table.SiteOf(78), 0u);
  EXPECT_EQ(table.SiteOf(1), 1u);
}

TEST(SiteTable, WritesSitesNumberedFromOneInTheOrderMet) {
  Fixture f;
  SiteTable table(f.stacks, f.modules, 1, f.bins);
  table.at(table.SiteOf(3)).OnAlloc(10, 64, 1);
  table.at(table.SiteOf(1)).OnAlloc(20, 32, 1);
  table.at(table.SiteOf(2)).OnAlloc(30, 32, 1);
  profile::ProfileChunk profile;
  table.WriteTo(100, 1, &profile);
  ASSERT_EQ(profile.sites_size(), 2);
  EXPECT_EQ(profile.sites(0).id(), 1u);
  EXPECT_EQ(profile.sites(0).stack(0).offset(), kText + 0x20);
  EXPECT_EQ(profile.sites(0).allocations(), 1u);
  EXPECT_EQ(profile.sites(1).id(), 2u);
  EXPECT_EQ(profile.sites(1).stack(0).offset(), kText + 0x10);
  EXPECT_EQ(profile.sites(1).allocations(), 2u);
  EXPECT_EQ(profile.sites(1).stack_size(), 1);  // cut to the depth
}

}  // namespace
}  // namespace tierscope::analyzer
