// The profile's metadata from a trace header: sampler names, weighting, accesses per sample.
#include <gtest/gtest.h>

#include "join/profile_metadata.h"

namespace tierscope::analyzer {
namespace {

void AddSampler(trace::Header* header, trace::SamplerKind kind, uint64_t period,
                const std::string& weighting = "") {
  auto* s = header->add_samplers();
  s->set_kind(kind);
  s->set_period(period);
  s->set_weighting(weighting);
}

TEST(ProfileMetadata, NoSamplerSaysSo) {
  profile::Metadata meta;
  DescribeSampler(trace::Header(), &meta);
  EXPECT_EQ(meta.sampler(), "none");
  EXPECT_EQ(meta.weighting(), "no access samples");
  EXPECT_EQ(meta.accesses_per_sample(), 1);
}

TEST(ProfileMetadata, TimerSamplesAreWeightedByStallTime) {
  trace::Header header;
  AddSampler(&header, trace::SAMPLER_TIMER, 1000000);
  AddSampler(&header, trace::SAMPLER_FAULTS, 1);
  profile::Metadata meta;
  DescribeSampler(header, &meta);
  EXPECT_EQ(meta.sampler(), "timer+faults");
  EXPECT_NE(meta.weighting().find("one sample per 1000000 ns"), std::string::npos);
  EXPECT_NE(meta.weighting().find("stall time"), std::string::npos);
  EXPECT_EQ(meta.accesses_per_sample(), 1);
}

TEST(ProfileMetadata, EventSamplersStandForTheirPeriod) {
  trace::Header header;
  AddSampler(&header, trace::SAMPLER_PEBS, 10007, "pebs: loads over 30 cycles");
  profile::Metadata meta;
  DescribeSampler(header, &meta);
  EXPECT_EQ(meta.sampler(), "pebs");
  EXPECT_EQ(meta.weighting(), "pebs: loads over 30 cycles");
  EXPECT_EQ(meta.accesses_per_sample(), 10007);
}

TEST(ProfileMetadata, TheRunSpansTheBins) {
  TraceIndex trace;
  trace.header.set_executable("/bin/prog");
  trace.header.add_cmdline("prog");
  trace.header.set_pid(42);
  trace.header.mutable_recorder()->set_alloc_sample_bytes(4096);
  TimeBins bins;
  bins.start_ns = 1000;
  bins.bin_ns = 50;
  profile::Metadata meta;
  DescribeRun(trace, "/tmp/x.trace", bins, 6000, &meta);
  EXPECT_EQ(meta.duration_ns(), 5000u);
  EXPECT_EQ(meta.bin_ns(), 50u);
  EXPECT_EQ(meta.alloc_sample_bytes(), 4096);
  ASSERT_EQ(meta.runs_size(), 1);
  EXPECT_EQ(meta.runs(0).program(), "/bin/prog");
  EXPECT_EQ(meta.runs(0).pid(), 42u);
  EXPECT_EQ(meta.runs(0).duration_ns(), 5000u);
  EXPECT_EQ(meta.runs(0).trace_path(), "/tmp/x.trace");
  EXPECT_FALSE(meta.tierscope_version().empty());
}

}  // namespace
}  // namespace tierscope::analyzer
