#include "tierscope/formats/profile_io.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "test_support.h"

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
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(result.profile, profile));
  ContainerReader reader(dir.File("p"));
  std::string raw;
  int chunks = 0;
  while (reader.Next(&raw)) ++chunks;
  EXPECT_EQ(chunks, 1 + 16 + 1);  // metadata, 1000/64 rounded up, tiers+plan
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
