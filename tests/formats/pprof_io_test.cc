#include <gtest/gtest.h>

#include "test_support.h"
#include "tierscope/formats/pprof_io.h"

namespace tierscope::testing {
namespace {

TEST(PprofIo, RoundTripsThroughGzip) {
  TempDir dir;
  perftools::profiles::Profile p;
  p.add_string_table("");
  p.add_string_table("alloc_space");
  auto* t = p.add_sample_type();
  t->set_type(1);
  auto* s = p.add_sample();
  s->add_location_id(7);
  s->add_value(4096);
  formats::WritePprof(dir.File("p.pb.gz"), p);
  const std::string bytes = ReadBytes(dir.File("p.pb.gz"));
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x8b);
  auto back = formats::ReadPprof(dir.File("p.pb.gz"));
  ASSERT_EQ(back.sample_size(), 1);
  EXPECT_EQ(back.sample(0).value(0), 4096);
  EXPECT_EQ(back.string_table(1), "alloc_space");
}

TEST(PprofIo, TruncatedFileIsNamed) {
  TempDir dir;
  perftools::profiles::Profile p;
  for (int i = 0; i < 100; ++i) p.add_string_table("name" + std::to_string(i));
  formats::WritePprof(dir.File("p"), p);
  const std::string bytes = ReadBytes(dir.File("p"));
  WriteBytes(dir.File("cut"), bytes.substr(0, bytes.size() / 2));
  try {
    formats::ReadPprof(dir.File("cut"));
    FAIL() << "no error";
  } catch (const formats::FormatException& e) {
    EXPECT_NE(std::string(e.what()).find(dir.File("cut")), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tierscope::testing
