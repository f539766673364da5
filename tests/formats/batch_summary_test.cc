// Batch summaries and bulk decoders must agree with the cursors on sound and damaged batches;
// Seek must bring back exactly the chunk that was at an offset.
#include "tierscope/formats/batch_summary.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <vector>

#include "test_support.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::formats {
namespace {

using google::protobuf::util::MessageDifferencer;

trace::AllocBatch Allocs() {
  trace::AllocBatch batch;
  batch.set_tid(7);
  AllocBatchBuilder b(&batch);
  b.Add({100, trace::MALLOC, 0x1000, 16, 1});
  b.Add({105, trace::MMAP, 0x7f0000000000, 8192, 2});
  b.Add({105, trace::FREE, 0x1000, 0, 0});
  b.Add({130, trace::MUNMAP, 0x7f0000001000, 4096, 0});
  b.Add({200, trace::REALLOC, 0x900, 24, 3});
  return batch;
}

trace::SampleBatch Samples(bool weights) {
  trace::SampleBatch batch;
  SampleBatchBuilder b(&batch, true);
  b.Add({50, 0x401000, 0x1000, trace::ACCESS_LOAD, weights ? 30u : 1u, 5});
  b.Add({70, 0x401010, 0x0ff0, trace::ACCESS_STORE, 1, 6, uint8_t(weights ? 3 : 0)});
  b.Add({71, 0x400ff0, 0x2000, trace::ACCESS_LOAD, 1, 7});
  b.Finish();
  return batch;
}

// What the cursor yields, and its error.
std::pair<std::vector<AllocEvent>, std::string> ByCursor(const trace::AllocBatch& batch) {
  AllocBatchCursor c(batch);
  std::vector<AllocEvent> out;
  AllocEvent e;
  while (c.Next(&e)) out.push_back(e);
  return {out, c.error()};
}

void ExpectSameAsCursor(const trace::AllocBatch& batch) {
  auto [events, error] = ByCursor(batch);
  const BatchSummary s = SummarizeAllocBatch(batch);
  EXPECT_EQ(s.events, static_cast<int>(events.size()));
  EXPECT_EQ(s.error, error);
  if (!events.empty()) {
    EXPECT_EQ(s.first_time_ns, events.front().time_ns);
    EXPECT_EQ(s.last_time_ns, events.back().time_ns);
  }
  std::vector<AllocEvent> bulk;
  DecodeAllocBatch(batch, s.events, [&](const AllocEvent& e) { bulk.push_back(e); });
  ASSERT_EQ(bulk.size(), events.size());
  for (size_t i = 0; i < bulk.size(); ++i) {
    EXPECT_EQ(bulk[i].time_ns, events[i].time_ns) << i;
    EXPECT_EQ(bulk[i].kind, events[i].kind) << i;
    EXPECT_EQ(bulk[i].address, events[i].address) << i;
    EXPECT_EQ(bulk[i].size, events[i].size) << i;
    EXPECT_EQ(bulk[i].stack_id, events[i].stack_id) << i;
  }
}

TEST(BatchSummary, SoundAllocBatchMatchesTheCursor) {
  const auto batch = Allocs();
  ExpectSameAsCursor(batch);
  const BatchSummary s = SummarizeAllocBatch(batch);
  EXPECT_EQ(s.events, 5);
  EXPECT_EQ(s.first_time_ns, 100u);
  EXPECT_EQ(s.last_time_ns, 200u);
  EXPECT_TRUE(s.error.empty());
}

TEST(BatchSummary, DamagedAllocBatchesStopWhereTheCursorStops) {
  auto short_sizes = Allocs();
  short_sizes.mutable_size()->RemoveLast();  // the REALLOC's size
  ExpectSameAsCursor(short_sizes);
  EXPECT_EQ(SummarizeAllocBatch(short_sizes).events, 4);
  EXPECT_EQ(SummarizeAllocBatch(short_sizes).last_time_ns, 130u);

  auto short_stacks = Allocs();
  short_stacks.mutable_stack_id()->RemoveLast();
  short_stacks.mutable_stack_id()->RemoveLast();  // the MMAP's and the REALLOC's
  ExpectSameAsCursor(short_stacks);
  EXPECT_EQ(SummarizeAllocBatch(short_stacks).events, 1);

  auto ragged = Allocs();
  ragged.mutable_time_delta_ns()->RemoveLast();
  ExpectSameAsCursor(ragged);
  EXPECT_EQ(SummarizeAllocBatch(ragged).events, 0);
  EXPECT_FALSE(SummarizeAllocBatch(ragged).error.empty());

  ExpectSameAsCursor(trace::AllocBatch());

  // The FREE of 0x1000 is a back-reference to the MALLOC before it.
  ASSERT_EQ(Allocs().address_ref(2), 2u);
  auto too_far = Allocs();
  too_far.set_address_ref(2, 3);
  ExpectSameAsCursor(too_far);
  EXPECT_EQ(SummarizeAllocBatch(too_far).events, 2);
  EXPECT_EQ(SummarizeAllocBatch(too_far).error,
            "alloc batch address reference points before its batch");

  auto no_delta = Allocs();
  no_delta.mutable_address_delta()->RemoveLast();  // the REALLOC's explicit address
  ExpectSameAsCursor(no_delta);
  EXPECT_EQ(SummarizeAllocBatch(no_delta).events, 4);

  auto unknown = Allocs();
  unknown.set_kind(2, trace::EVENT_UNKNOWN);
  ExpectSameAsCursor(unknown);
  EXPECT_EQ(SummarizeAllocBatch(unknown).events, 2);
}

TEST(BatchSummary, CoarseTimesAndReferencesOverManyEventsMatchTheCursor) {
  trace::AllocBatch batch;
  AllocBatchBuilder b(&batch, 64);
  uint64_t t = 1'000'003;
  for (uint64_t i = 0; i < 20000; ++i) {
    const uint64_t slot = 0x10000 + 64 * (i * 7919 % 300);
    b.Add({t += 37, trace::MALLOC, slot, 48, 1});
    b.Add({t += 51, trace::FREE, slot, 0, 0});
  }
  ExpectSameAsCursor(batch);
  EXPECT_EQ(SummarizeAllocBatch(batch).events, 40000);
}

TEST(BatchSummary, SampleBatchesMatchTheCursor) {
  for (bool weights : {false, true}) {
    const auto batch = Samples(weights);
    SampleBatchCursor c(batch);
    std::vector<AccessSample> events;
    AccessSample s;
    while (c.Next(&s)) events.push_back(s);
    const BatchSummary sum = SummarizeSampleBatch(batch);
    EXPECT_EQ(sum.events, 3);
    EXPECT_EQ(sum.first_time_ns, 50u);
    EXPECT_EQ(sum.last_time_ns, 71u);
    std::vector<AccessSample> bulk;
    DecodeSampleBatch(batch, sum.events, [&](const AccessSample& x) { bulk.push_back(x); });
    ASSERT_EQ(bulk.size(), events.size());
    for (size_t i = 0; i < bulk.size(); ++i) {
      EXPECT_EQ(bulk[i].time_ns, events[i].time_ns);
      EXPECT_EQ(bulk[i].ip, events[i].ip);
      EXPECT_EQ(bulk[i].address, events[i].address);
      EXPECT_EQ(bulk[i].access, events[i].access);
      EXPECT_EQ(bulk[i].weight, events[i].weight);
      EXPECT_EQ(bulk[i].data_source, events[i].data_source);
      EXPECT_EQ(bulk[i].period_shift, events[i].period_shift);
    }
    EXPECT_EQ(bulk[1].period_shift, weights ? 3 : 0);
  }
  auto ragged = Samples(true);
  ragged.mutable_weight()->RemoveLast();
  const BatchSummary bad = SummarizeSampleBatch(ragged);
  EXPECT_EQ(bad.events, 0);
  SampleBatchCursor c(ragged);
  AccessSample s;
  EXPECT_FALSE(c.Next(&s));
  EXPECT_EQ(bad.error, c.error());
  auto short_shifts = Samples(true);
  short_shifts.mutable_period_shift()->RemoveLast();
  EXPECT_EQ(SummarizeSampleBatch(short_shifts).events, 0);
}

TEST(ContainerSeek, RereadsAChunkByItsOffset) {
  testing::TempDir dir;
  const std::string path = dir.File("t");
  std::vector<trace::TraceChunk> chunks(3);
  std::vector<ChunkInfo> infos;
  {
    TraceWriter w(path);
    for (uint32_t i = 0; i < chunks.size(); ++i) {
      chunks[i].add_threads()->set_tid(100 + i);
      infos.push_back(w.Append(chunks[i]));
    }
    w.Close();
  }
  TraceReader r(path);
  trace::TraceChunk got;
  ChunkInfo info;
  for (int i : {2, 0, 1, 2}) {  // backwards and forwards
    ASSERT_TRUE(r.Seek(infos[i].offset));
    ASSERT_TRUE(r.Next(&got, &info)) << i;
    EXPECT_TRUE(MessageDifferencer::Equals(got, chunks[i])) << i;
    EXPECT_EQ(info.offset, infos[i].offset);
  }
  EXPECT_FALSE(r.Next(&got));  // after the last chunk: a clean end
  EXPECT_FALSE(r.error());
  EXPECT_FALSE(r.Seek(1u << 30));  // outside the file: an error naming the offset
  ASSERT_TRUE(r.error());
  EXPECT_NE(r.error()->Message().find("outside the file"), std::string::npos);
}

}  // namespace
}  // namespace tierscope::formats
