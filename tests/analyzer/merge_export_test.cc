// Merge associativity, diff labels, pprof export round trip, symbolization of a known function.
#include <dlfcn.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "test_support.h"
#include "tierscope/analyzer/export.h"
#include "tierscope/analyzer/merge.h"
#include "tierscope/analyzer/symbolize.h"
#include "tierscope/formats/pprof_io.h"

namespace tierscope::testing {
namespace {

// Integer-valued numbers so that sums are exact in any order.
profile::ProfileChunk RunProfile(uint64_t bin_ns,
                                 std::vector<std::tuple<uint64_t, uint64_t, uint32_t>> sites) {
  profile::ProfileChunk p;
  p.mutable_metadata()->set_bin_ns(bin_ns);
  p.mutable_metadata()->set_sampler("timer");
  p.mutable_metadata()->add_runs()->set_pid(static_cast<uint32_t>(sites.size()));
  for (auto [offset, peak, samples] : sites) {
    auto* s = p.add_sites();
    s->set_id(p.sites_size());
    auto* loc = s->add_stack();
    loc->set_module("/bin/prog");
    loc->set_build_id("\x01\x02");
    loc->set_offset(offset);
    s->set_allocations(1);
    s->set_bytes(peak);
    s->set_peak_live_bytes(peak);
    s->set_load_samples(samples);
    s->set_live_byte_seconds(double(peak));
    s->set_temperature(double(samples));
    for (int b = 0; b < 4; ++b) {
      s->add_histogram(samples);
      s->add_live_histogram(peak * b);
    }
  }
  p.mutable_metadata()->set_total_samples(7);
  return p;
}

TEST(Merge, IsAssociative) {
  const auto a = RunProfile(100, {{0x10, 64, 3}, {0x20, 128, 0}});
  const auto b = RunProfile(100, {{0x20, 256, 5}, {0x30, 8, 1}});
  const auto c = RunProfile(200, {{0x10, 32, 2}});
  profile::ProfileChunk left;  // (A + B) + C
  analyzer::MergeInto(&left, a);
  analyzer::MergeInto(&left, b);
  analyzer::MergeInto(&left, c);
  profile::ProfileChunk bc, right;  // A + (B + C)
  analyzer::MergeInto(&bc, b);
  analyzer::MergeInto(&bc, c);
  analyzer::MergeInto(&right, a);
  analyzer::MergeInto(&right, bc);
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(left, right)) << diff;
  // And the numbers themselves: site 0x10 = 3 + 2 samples, peak max(64, 32).
  ASSERT_EQ(left.sites_size(), 3);
  EXPECT_EQ(left.sites(0).load_samples(), 5u);
  EXPECT_EQ(left.sites(0).peak_live_bytes(), 64u);
  EXPECT_EQ(left.sites(1).peak_live_bytes(), 256u);
  EXPECT_EQ(left.metadata().bin_ns(), 200u);
  EXPECT_EQ(left.metadata().total_samples(), 21u);
  EXPECT_EQ(left.metadata().runs_size(), 3);
  // Re-binned to 200 ns: bins {0,1} and {2,3} of site 0x20 of A and B add up.
  ASSERT_EQ(left.sites(1).histogram_size(), 2);
  EXPECT_EQ(left.sites(1).histogram(0), 10u);
}

TEST(Diff, LabelsHotterColderNewGone) {
  const auto a = RunProfile(100, {{0x10, 64, 3}, {0x20, 128, 10}, {0x30, 8, 1}});
  const auto b = RunProfile(100, {{0x10, 64, 30}, {0x20, 128, 1}, {0x40, 8, 1}});
  std::map<uint64_t, std::string> change;
  for (const auto& r : analyzer::DiffProfiles(a, b))
    change[std::stoull(r.site.substr(r.site.find('+') + 1), nullptr, 16)] = r.change;
  EXPECT_EQ(change[0x10], "hotter");
  EXPECT_EQ(change[0x20], "colder");
  EXPECT_EQ(change[0x30], "gone");
  EXPECT_EQ(change[0x40], "new");
}

TEST(Export, PprofRoundTripKeepsValuesAndStacks) {
  TempDir dir;
  auto p = RunProfile(100, {{0x10, 64, 3}, {0x20, 128, 0}});
  auto* line = p.mutable_sites(0)->mutable_stack(0)->add_lines();
  line->set_function("hot_loop()");
  line->set_file("kv.cc");
  line->set_line(42);
  formats::WritePprof(dir.File("p.pb.gz"), analyzer::ToPprof(p));
  const auto back = formats::ReadPprof(dir.File("p.pb.gz"));
  ASSERT_EQ(back.sample_type_size(), 4);
  EXPECT_EQ(back.string_table(back.sample_type(0).type()), "alloc_space");
  EXPECT_EQ(back.string_table(back.sample_type(3).type()), "store_samples");
  ASSERT_EQ(back.sample_size(), 2);
  EXPECT_EQ(back.sample(0).value(0), 64);  // alloc bytes
  EXPECT_EQ(back.sample(0).value(1), 64);  // peak live
  EXPECT_EQ(back.sample(0).value(2), 3);   // loads
  ASSERT_EQ(back.sample(0).location_id_size(), 1);
  const auto& loc = back.location(back.sample(0).location_id(0) - 1);
  EXPECT_EQ(loc.address(), 0x10u);
  ASSERT_EQ(loc.line_size(), 1);
  EXPECT_EQ(loc.line(0).line(), 42);
  const auto& fn = back.function(loc.line(0).function_id() - 1);
  EXPECT_EQ(back.string_table(fn.name()), "hot_loop()");
  EXPECT_EQ(back.string_table(back.mapping(0).build_id()), "0102");
}

__attribute__((noinline)) int KnownFunctionForSymbolizer(int x) {
  return x * 3 + 1;
}

TEST(Symbolize, FindsAFunctionOfThisBinaryAndNeverFailsOnMissingFiles) {
  Dl_info info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&KnownFunctionForSymbolizer), &info), 0);
  profile::Location loc;
  loc.set_module("/proc/self/exe");
  // A PIE's first segment has virtual address 0, so ELF address = address - load base.
  loc.set_offset(reinterpret_cast<uint64_t>(&KnownFunctionForSymbolizer) -
                 reinterpret_cast<uint64_t>(info.dli_fbase) + 4);
  analyzer::Symbolizer symbolizer({});
  ASSERT_TRUE(symbolizer.Symbolize(&loc, /*return_address=*/false));
  EXPECT_NE(loc.lines(0).function().find("KnownFunctionForSymbolizer"), std::string::npos)
      << loc.lines(0).function();
  profile::Location missing;
  missing.set_module("/no/such/module.so");
  missing.set_offset(0x1234);
  EXPECT_FALSE(symbolizer.Symbolize(&missing));
  EXPECT_EQ(missing.lines_size(), 0);
}

}  // namespace
}  // namespace tierscope::testing
