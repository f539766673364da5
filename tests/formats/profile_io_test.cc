#include "tierscope/formats/profile_io.h"

#include <set>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "test_support.h"
#include "tierscope/common/site_key.h"
#include "tierscope/formats/placement_index.h"

namespace tierscope::formats {
namespace {

using testing::TempDir;

profile::ProfileChunk SampleProfile(int sites) {
  profile::ProfileChunk p;
  p.mutable_metadata()->set_sampler("timer");
  p.mutable_metadata()->set_bin_ns(1'000'000);
  p.mutable_metadata()->add_runs()->set_program("prog");
  for (int i = 0; i < sites; ++i) {
    auto* site = p.add_sites();
    site->set_id(i + 1);
    auto* loc = site->add_stack();
    loc->set_module("/usr/bin/prog");
    loc->set_offset(0x1000 + i);
    auto* line = loc->add_lines();
    // Built in two steps: g++ 12 warns falsely (-Wrestrict, PR105651) on "f" + to_string(i).
    line->set_function("f");
    line->mutable_function()->append(std::to_string(i));
    line->set_file("f.cc");
    line->set_line(i);
    site->set_bytes(100 * i);
    site->set_temperature(1.5 * i);
    site->add_histogram(i);
  }
  auto* tier = p.add_tiers();
  tier->set_name("fast");
  tier->add_nodes(0);
  tier->set_capacity_bytes(1 << 20);
  auto* a = p.mutable_plan()->add_assignments();
  a->set_site_id(1);
  a->set_tier("fast");
  p.mutable_plan()->set_default_tier("slow");
  return p;
}

TEST(ProfileIo, RoundTripAcrossManyChunks) {
  TempDir dir;
  const auto profile = SampleProfile(1000);
  WriteProfile(dir.File("p"), profile, 64);
  auto result = ReadProfile(dir.File("p"));
  ASSERT_TRUE(result.ok()) << result.error->Message();
  EXPECT_TRUE(result.profile.plan().has_index());  // written from the sites (test below)
  result.profile.mutable_plan()->clear_index();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(result.profile, profile));
  ContainerReader reader(dir.File("p"));
  std::string raw;
  int chunks = 0;
  while (reader.Next(&raw)) ++chunks;
  EXPECT_EQ(chunks, 1 + 16);  // metadata, tiers and plan; 1000/64 rounded up
}

// The plan's PlacementIndex stands for the sites where the placer needs them: each assignment's
// key (the one definition, common/site_key.h, at the plan's depth), its site's allocations (once
// per site), the rest's, the modules; and the plan can be read without the sites.
TEST(ProfileIo, ThePlanCarriesAnIndexOfItsSitesAndReadsWithoutThem) {
  TempDir dir;
  profile::ProfileChunk p;
  p.mutable_metadata()->set_site_depth(8);
  const char* modules[] = {"/usr/lib/liba.so", "/usr/bin/prog", "/usr/lib/libb.so"};
  for (int i = 0; i < 50; ++i) {
    auto* site = p.add_sites();
    site->set_id(100 + i);
    site->set_allocations(10 + i);
    for (int f = 0; f < 4; ++f) {
      auto* loc = site->add_stack();
      loc->set_module(modules[(i + f) % 3]);
      if ((i + f) % 3 == 0) loc->set_build_id("\x01\x02");
      loc->set_offset(0x1000 * f + i % 7);  // sites share prefixes: keys at depth 2 repeat
      loc->add_lines()->set_function("fn");
    }
  }
  auto* plan = p.mutable_plan();
  plan->set_site_depth(2);
  for (uint64_t id : {105, 999, 110, 105, 149}) {  // 999: no such site; 105 twice
    auto* a = plan->add_assignments();
    a->set_site_id(id);
    a->set_tier("fast");
  }
  WriteProfile(dir.File("p"), p, 16);

  auto read = ReadProfilePlan(dir.File("p"));
  ASSERT_TRUE(read.ok()) << read.error->Message();
  EXPECT_EQ(read.profile.sites_size(), 0);
  EXPECT_EQ(read.profile.metadata().site_depth(), 8u);
  EXPECT_EQ(read.profile.plan().assignments_size(), 5);
  const profile::PlacementIndex& index = read.profile.plan().index();
  EXPECT_EQ(PlanKeyDepth(p), 2u);
  ASSERT_TRUE(IndexUsable(read.profile.plan(), 2));
  EXPECT_FALSE(IndexUsable(read.profile.plan(), 3));  // another depth: the sites are needed
  auto site = [&](uint64_t id) { return p.sites(static_cast<int>(id - 100)); };
  EXPECT_EQ(index.keys(0), common::SiteMatchKey(site(105), 2));
  EXPECT_EQ(index.keys(2), common::SiteMatchKey(site(110), 2));
  EXPECT_EQ(index.keys(3), index.keys(0));
  EXPECT_EQ(index.keys(4), common::SiteMatchKey(site(149), 2));
  EXPECT_NE(index.keys(0), common::SiteMatchKey(site(105), 3));
  ASSERT_EQ(index.missing_size(), 1);
  EXPECT_EQ(index.missing(0), 1u);
  EXPECT_EQ(index.allocations(0), 15u);
  EXPECT_EQ(index.allocations(3), 0u);  // the site's second assignment
  EXPECT_EQ(index.allocations(4), 59u);
  uint64_t all = 0;
  for (const auto& s : p.sites()) all += s.allocations();
  EXPECT_EQ(index.other_allocations(), all - 15 - 20 - 59);
  // Every module once, in the order met (site 100: frames 0, 1, 2), with its build-id.
  ASSERT_EQ(index.modules_size(), 3);
  EXPECT_EQ(index.modules(0).name(), "liba.so");
  EXPECT_EQ(index.modules(0).build_id(), "\x01\x02");
  EXPECT_EQ(index.modules(1).name(), "prog");
  EXPECT_EQ(index.modules(2).name(), "libb.so");
  // The modules of the keys' frames only: sites 105, 110, 149 at depth 2.
  std::set<std::string> key_modules;
  for (const auto& m : index.key_modules()) key_modules.insert(m.name());
  std::set<std::string> expected;
  for (uint64_t id : {105, 110, 149}) {
    for (int f = 0; f < 2; ++f)
      expected.insert(std::string(common::BaseName(site(id).stack(f).module())));
  }
  EXPECT_EQ(key_modules, expected);

  // The whole profile reads the same plan, index included; another depth is made from the sites.
  auto whole = ReadProfile(dir.File("p"));
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(whole.profile.plan(),
                                                                 read.profile.plan()));
  EXPECT_EQ(IndexPlan(whole.profile, 3).keys(0), common::SiteMatchKey(site(105), 3));
}

// The plan comes first, and ReadProfilePlan stops there: a damaged site chunk after it is never
// read (ReadProfile finds the damage). A profile written before, with its plan last and no index,
// still reads whole.
TEST(ProfileIo, ThePlanIsFirstAndReadingItStopsThere) {
  TempDir dir;
  const auto profile = SampleProfile(1000);
  WriteProfile(dir.File("p"), profile, 100);
  const std::string bytes = testing::ReadBytes(dir.File("p"));
  testing::WriteBytes(dir.File("cut"), bytes.substr(0, bytes.size() - 10));
  EXPECT_FALSE(ReadProfile(dir.File("cut")).ok());
  auto plan = ReadProfilePlan(dir.File("cut"));
  ASSERT_TRUE(plan.ok()) << plan.error->Message();
  EXPECT_TRUE(plan.profile.plan().has_index());
  EXPECT_EQ(plan.profile.plan().assignments_size(), 1);
  EXPECT_EQ(plan.profile.tiers_size(), 1);
  EXPECT_EQ(plan.profile.sites_size(), 0);

  {
    ContainerWriter old(dir.File("old"), FileKind::kProfile);
    profile::ProfileChunk head, sites, tail;
    *head.mutable_metadata() = profile.metadata();
    *sites.mutable_sites() = profile.sites();
    *tail.mutable_tiers() = profile.tiers();
    *tail.mutable_plan() = profile.plan();
    for (const auto* chunk : {&head, &sites, &tail}) old.Append(chunk->SerializeAsString());
    old.Close();
  }
  auto old = ReadProfilePlan(dir.File("old"));
  ASSERT_TRUE(old.ok()) << old.error->Message();
  EXPECT_FALSE(old.profile.plan().has_index());
  EXPECT_EQ(old.profile.plan().assignments_size(), 1);
  EXPECT_EQ(old.profile.tiers_size(), 1);
  EXPECT_EQ(old.profile.metadata().sampler(), "timer");
  EXPECT_EQ(old.profile.sites_size(), 0);
}

TEST(ProfileIo, TruncatedProfileKeepsTheSitesBeforeTheDamage) {
  TempDir dir;
  WriteProfile(dir.File("p"), SampleProfile(1000), 100);
  std::string bytes = testing::ReadBytes(dir.File("p"));
  testing::WriteBytes(dir.File("cut"), bytes.substr(0, bytes.size() / 2));
  auto result = ReadProfile(dir.File("cut"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->kind, FormatError::Kind::kTruncated);
  EXPECT_GT(result.profile.sites_size(), 0);
  EXPECT_LT(result.profile.sites_size(), 1000);
  EXPECT_EQ(result.profile.sites_size() % 100, 0);
  EXPECT_EQ(result.profile.metadata().sampler(), "timer");
  EXPECT_THROW(LoadProfile(dir.File("cut")), FormatException);
}

TEST(ProfileIo, ATraceIsNotAProfile) {
  TempDir dir;
  ContainerWriter(dir.File("t"), FileKind::kTrace).Close();
  auto result = ReadProfile(dir.File("t"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->kind, FormatError::Kind::kWrongKind);
}

}  // namespace
}  // namespace tierscope::formats
