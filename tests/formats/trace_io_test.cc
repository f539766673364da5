#include "tierscope/formats/trace_io.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "test_support.h"
#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"

namespace tierscope::formats {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::TempDir;

std::vector<AllocEvent> SampleEvents() {
  // Every kind, addresses going up and down, sizes across the range.
  std::vector<AllocEvent> events;
  uint64_t t = 1'000'000'000;
  uint64_t address = 0x7f0000001000;
  for (int k : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 32, 33, 34, 35, 36, 37}) {
    const auto kind = static_cast<trace::EventKind>(k);
    address = (k % 3 == 0) ? address - 4096 * k : address + 48 * k;
    AllocEvent e{t += 17 * k, kind, address, 0, 0};
    if (KindHasSize(kind)) e.size = uint64_t(1) << (k % 40);
    if (KindIsAllocation(kind)) e.stack_id = k * 1000;
    events.push_back(e);
  }
  return events;
}

trace::TraceChunk EveryMessageKind() {
  trace::TraceChunk chunk;
  auto* h = chunk.mutable_header();
  h->set_pid(42);
  h->add_cmdline("prog");
  h->add_cmdline("--flag");
  h->set_hostname("host");
  h->set_clock("CLOCK_MONOTONIC");
  h->set_cpu_model("AMD EPYC");
  auto* node = h->mutable_topology()->add_nodes();
  node->set_id(1);
  node->set_memory_bytes(1 << 30);
  h->mutable_recorder()->set_max_stack_depth(32);
  auto* sampler = h->add_samplers();
  sampler->set_kind(trace::SAMPLER_TIMER);
  sampler->set_period(1'000'000);
  auto* map = chunk.add_module_maps();
  map->set_time_ns(5);
  auto* module = map->add_modules();
  module->set_path("/usr/bin/prog");
  module->set_build_id(std::string("\x01\x02\xff", 3));
  module->set_load_bias(0x555500000000);
  auto* segment = module->add_segments();
  segment->set_start(0x555500001000);
  segment->set_end(0x555500009000);
  segment->set_executable(true);
  auto* stack = chunk.add_stacks();
  stack->set_id(7);
  stack->add_frames(0x555500001234);
  stack->add_frames(0x7fff00000000);
  auto* thread = chunk.add_threads();
  thread->set_tid(43);
  thread->set_name("worker");
  AllocBatchBuilder allocs(chunk.add_allocs());
  for (const auto& e : SampleEvents()) allocs.Add(e);
  auto* batch = chunk.add_samples();
  batch->set_tid(43);
  SampleBatchBuilder samples(batch, true);
  samples.Add({100, 0x555500001234, 0x7f0000001000, trace::ACCESS_LOAD, 35, 0x1234});
  samples.Add({90, 0x555500001200, 0x7e0000001000, trace::ACCESS_STORE, 1, 0});
  samples.Finish();
  chunk.mutable_counters()->set_alloc_events(13);
  (*chunk.mutable_counters()->mutable_undecoded_by_reason())["no-memory-operand"] = 3;
  chunk.mutable_footer()->set_end_reason("exit");
  return chunk;
}

TEST(TraceIo, EveryMessageKindRoundTrips) {
  TempDir dir;
  const auto chunk = EveryMessageKind();
  {
    TraceWriter writer(dir.File("t.trace"));
    writer.Append(chunk);
    writer.Append(trace::TraceChunk());
    writer.Close();
  }
  TraceReader reader(dir.File("t.trace"));
  trace::TraceChunk got;
  ASSERT_TRUE(reader.Next(&got));
  EXPECT_TRUE(MessageDifferencer::Equals(got, chunk));
  ASSERT_TRUE(reader.Next(&got));
  EXPECT_FALSE(got.has_header());
  EXPECT_FALSE(reader.Next(&got));
  EXPECT_FALSE(reader.error());
}

TEST(TraceIo, AllocColumnsDecodeToTheEventsThatWentIn) {
  trace::AllocBatch batch;
  AllocBatchBuilder builder(&batch);
  const auto events = SampleEvents();
  for (const auto& e : events) builder.Add(e);
  AllocBatchCursor cursor(batch);
  AllocEvent e;
  for (const auto& want : events) {
    ASSERT_TRUE(cursor.Next(&e));
    EXPECT_EQ(e.time_ns, want.time_ns);
    EXPECT_EQ(e.kind, want.kind);
    EXPECT_EQ(e.address, want.address);
    EXPECT_EQ(e.size, want.size);
    EXPECT_EQ(e.stack_id, want.stack_id);
  }
  EXPECT_FALSE(cursor.Next(&e));
  EXPECT_TRUE(cursor.error().empty());
  // Releases carry no stack and only munmap-like ones a size.
  EXPECT_EQ(batch.stack_id_size(), 13);
  EXPECT_EQ(batch.size_size(), 15);
}

TEST(TraceIo, TimesThatGoBackAreClampedNotWrapped) {
  trace::AllocBatch batch;
  AllocBatchBuilder builder(&batch);
  builder.Add({1000, trace::MALLOC, 0x10, 8, 1});
  builder.Add({990, trace::FREE, 0x10, 0, 0});
  AllocBatchCursor cursor(batch);
  AllocEvent e;
  ASSERT_TRUE(cursor.Next(&e));
  ASSERT_TRUE(cursor.Next(&e));
  EXPECT_EQ(e.time_ns, 1000u);
}

TEST(TraceIo, InconsistentColumnsAreReportedNotOverrun) {
  trace::AllocBatch batch;
  AllocBatchBuilder builder(&batch);
  builder.Add({1, trace::MALLOC, 0x10, 8, 1});
  builder.Add({2, trace::MALLOC, 0x20, 8, 1});
  batch.mutable_size()->RemoveLast();
  AllocBatchCursor cursor(batch);
  AllocEvent e;
  EXPECT_TRUE(cursor.Next(&e));
  EXPECT_FALSE(cursor.Next(&e));
  EXPECT_EQ(cursor.error(), "alloc batch size column is short");

  trace::SampleBatch samples;
  SampleBatchBuilder sb(&samples, false);
  sb.Add({1, 2, 3, trace::ACCESS_LOAD, 1, 0});
  sb.Finish();
  samples.add_ip_delta(5);
  SampleBatchCursor sc(samples);
  AccessSample s;
  EXPECT_FALSE(sc.Next(&s));
  EXPECT_FALSE(sc.error().empty());
}

TEST(TraceIo, WeightColumnIsDroppedWhenAllOnes) {
  trace::SampleBatch batch;
  SampleBatchBuilder builder(&batch, false);
  builder.Add({1, 2, 3, trace::ACCESS_LOAD, 1, 0});
  builder.Finish();
  EXPECT_EQ(batch.weight_size(), 0);
  EXPECT_EQ(batch.data_source_size(), 0);
  EXPECT_EQ(batch.period_shift_size(), 0);  // every sample at the header's period
  SampleBatchCursor cursor(batch);
  AccessSample s;
  ASSERT_TRUE(cursor.Next(&s));
  EXPECT_EQ(s.weight, 1u);
  EXPECT_EQ(s.address, 3u);
}

// A sample taken at a stretched adaptive period keeps its shift; a damaged shift is bounded.
TEST(TraceIo, PeriodShiftsRoundTripAndAreBounded) {
  trace::SampleBatch batch;
  SampleBatchBuilder builder(&batch, false);
  builder.Add({1, 2, 3, trace::ACCESS_LOAD, 1, 0, 0});
  builder.Add({2, 2, 3, trace::ACCESS_LOAD, 1, 0, 4});
  builder.Finish();
  ASSERT_EQ(batch.period_shift_size(), 2);
  batch.add_access(trace::ACCESS_LOAD);
  batch.add_time_delta_ns(1);
  batch.add_ip_delta(0);
  batch.add_address_delta(0);
  batch.add_period_shift(4000000);
  SampleBatchCursor cursor(batch);
  AccessSample s;
  std::vector<int> shifts;
  while (cursor.Next(&s)) shifts.push_back(s.period_shift);
  EXPECT_EQ(shifts, (std::vector<int>{0, 4, 30}));
}

TEST(TraceIo, AProfileIsNotATrace) {
  TempDir dir;
  ContainerWriter(dir.File("p"), FileKind::kProfile).Close();
  TraceReader reader(dir.File("p"));
  trace::TraceChunk chunk;
  EXPECT_FALSE(reader.Next(&chunk));
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->kind, FormatError::Kind::kWrongKind);
  EXPECT_NE(reader.error()->Message().find("is a profile, not a trace"), std::string::npos);
}

TEST(TraceIo, ChunkThatIsNotATraceMessageIsCorrupt) {
  TempDir dir;
  {
    ContainerWriter writer(dir.File("t"), FileKind::kTrace);
    writer.Append("\xff\xff\xff\xff garbage that is not protobuf");
    writer.Close();
  }
  TraceReader reader(dir.File("t"));
  trace::TraceChunk chunk;
  EXPECT_FALSE(reader.Next(&chunk));
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->kind, FormatError::Kind::kCorrupt);
  EXPECT_EQ(reader.error()->offset, kFileHeaderSize);
}

}  // namespace
}  // namespace tierscope::formats
