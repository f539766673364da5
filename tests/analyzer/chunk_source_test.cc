// Pass 2's reading ahead (join/chunk_source.h): the merge sees the same events in the same order
// whether its chunks were decoded on a thread of their own, ahead of it, or by itself; a wrong
// prediction of the order costs only the read-ahead, never an event.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>
#include <tuple>

#include "join/event_merger.h"
#include "join/trace_index.h"
#include "test_support.h"
#include "trace_builder.h"

namespace tierscope::testing {
namespace {

using analyzer::ChunkSource;
using analyzer::EventMerger;
using analyzer::JoinEvent;
using analyzer::ReadAhead;

// 3 threads, each batch its own chunk, written in an order that is not the time order (thread 3
// flushes two batches late), with samples between: 3 x 40 alloc chunks + 40 sample chunks.
void WriteTrace(const std::string& path) {
  TraceBuilder t(path);
  constexpr int kBatches = 40;
  auto batch = [](uint32_t tid, int k) {
    std::vector<formats::AllocEvent> events;
    for (int j = 0; j < 30; ++j) {
      const uint64_t time = 1000 + uint64_t(k) * 1000 + uint64_t(j) * 16 + tid;
      const uint64_t address = tid * 0x100000 + uint64_t(j) * 64;
      events.push_back(Alloc(time, address, 48, 1 + tid % 4));
      events.push_back(Free(time + 8, address));
    }
    return events;
  };
  for (int k = 0; k < kBatches; ++k) {
    t.Allocs(1, batch(1, k));
    t.Allocs(2, batch(2, k));
    if (k >= 2) t.Allocs(3, batch(3, k - 2));
    t.Samples(1, {Load(1000 + uint64_t(k) * 1000 + 3, 0x100000)});
  }
  t.Allocs(3, batch(3, kBatches - 2));
  t.Allocs(3, batch(3, kBatches - 1));
  t.Close();
}

using Seen = std::tuple<uint64_t, uint64_t, uint64_t, uint32_t, uint16_t, uint32_t>;

std::vector<Seen> Merge(const analyzer::TraceIndex& index, const std::string& path, ReadAhead mode,
                        analyzer::MergeStats* stats) {
  EventMerger merger(index, path, mode);
  std::vector<Seen> seen;
  while (const JoinEvent* e = merger.Next()) {
    seen.emplace_back(e->time_ns, e->address, e->size, e->stack_id, e->kind, merger.stream());
  }
  EXPECT_FALSE(merger.error());
  *stats = merger.stats();
  return seen;
}

TEST(ChunkSource, TheMergeSeesTheSameEventsWithAndWithoutReadingAhead) {
  TempDir dir;
  WriteTrace(dir.File("t"));
  const auto index = analyzer::IndexTrace(dir.File("t"));
  ASSERT_FALSE(index.error);
  ASSERT_GT(index.chunks.size(), 100u);
  analyzer::MergeStats alone, ahead;
  const auto expected = Merge(index, dir.File("t"), ReadAhead::kNone, &alone);
  const auto got = Merge(index, dir.File("t"), ReadAhead::kThread, &ahead);
  EXPECT_EQ(expected.size(), index.event_count);
  EXPECT_TRUE(std::is_sorted(expected.begin(), expected.end(),
                             [](const Seen& a, const Seen& b) { return get<0>(a) < get<0>(b); }));
  EXPECT_EQ(got, expected);
  EXPECT_EQ(alone.chunks_read_ahead, 0u);
  EXPECT_EQ(ahead.chunk_reads, alone.chunk_reads);
  EXPECT_LE(ahead.chunks_read_ahead, ahead.chunk_reads);
}

TEST(ChunkSource, ThePredictionOrdersChunksByTheirFirstEvent) {
  // Every chunk starts later than the one before it in the predicted order, and the merge reads
  // chunks as their first batches come up: the prediction sorts by exactly that.
  TempDir dir;
  WriteTrace(dir.File("t"));
  const auto index = analyzer::IndexTrace(dir.File("t"));
  ASSERT_FALSE(index.error);
  const auto order = EventMerger::PredictChunkOrder(index);
  ASSERT_EQ(order.size(), index.chunks.size());
  auto first_time = [&](uint32_t c) {
    uint64_t t = UINT64_MAX;
    for (const auto& b : index.batches) {
      if (b.chunk == c) t = std::min(t, b.first_time_ns);
    }
    return t;
  };
  for (size_t i = 1; i < order.size(); ++i) {
    EXPECT_LE(first_time(order[i - 1]), first_time(order[i])) << i;
  }
  // File order is not time order here (thread 3's late chunks), so the prediction moved them.
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
}

TEST(ChunkSource, AWrongPredictionLosesNoChunk) {
  // The thread decodes from the last chunk back while the chunks are taken from the first on:
  // every chunk is still given exactly once, with the events a reader of its own finds.
  TempDir dir;
  WriteTrace(dir.File("t"));
  const auto index = analyzer::IndexTrace(dir.File("t"));
  ASSERT_FALSE(index.error);
  std::vector<uint32_t> backwards(index.chunks.size());
  for (uint32_t c = 0; c < backwards.size(); ++c) backwards[c] = uint32_t(backwards.size()) - 1 - c;
  ChunkSource ahead(index, dir.File("t"), ReadAhead::kThread, backwards);
  ChunkSource alone(index, dir.File("t"), ReadAhead::kNone, {});
  uint64_t events = 0;
  for (uint32_t c = 0; c < index.chunks.size(); ++c) {
    auto a = ahead.Take(c);
    auto b = alone.Take(c);
    ASSERT_FALSE(a.error);
    ASSERT_FALSE(b.error);
    ASSERT_EQ(a.events.size(), b.events.size()) << c;
    for (size_t i = 0; i < a.events.size(); ++i) {
      ASSERT_EQ(a.events[i].size(), b.events[i].size()) << c;
      for (size_t j = 0; j < a.events[i].size(); ++j) {
        EXPECT_EQ(a.events[i][j].time_ns, b.events[i][j].time_ns);
        EXPECT_EQ(a.events[i][j].address, b.events[i][j].address);
      }
      events += a.events[i].size();
    }
  }
  EXPECT_EQ(events, index.event_count);
  EXPECT_EQ(alone.taken_ahead(), 0u);
}

TEST(ChunkSource, WhileAHelperHoldsTheSecondCoreTheMergeReadsOnItsOwn) {
  // Symbolization beside the join (AnalyzeOptions::helper_busy) on a machine of two cores: the
  // thread decodes nothing while it runs, and the merge still gets every event.
  TempDir dir;
  WriteTrace(dir.File("t"));
  const auto index = analyzer::IndexTrace(dir.File("t"));
  ASSERT_FALSE(index.error);
  std::atomic<bool> busy{true};
  uint64_t events = 0;
  {
    EventMerger merger(index, dir.File("t"), ReadAhead::kThread, &busy);
    while (merger.Next()) ++events;
    EXPECT_FALSE(merger.error());
    if (std::thread::hardware_concurrency() < 3) {
      EXPECT_EQ(merger.stats().chunks_read_ahead, 0u);
    }
  }  // the waiting thread stops with the merger
  EXPECT_EQ(events, index.event_count);
}

TEST(ChunkSource, AFileCutShortBetweenThePassesIsAnErrorNotAHang) {
  TempDir dir;
  WriteTrace(dir.File("t"));
  const auto index = analyzer::IndexTrace(dir.File("t"));
  ASSERT_FALSE(index.error);
  // Pass 2 finds the file truncated to its first half.
  const auto size = std::filesystem::file_size(dir.File("t"));
  std::filesystem::resize_file(dir.File("t"), size / 2);
  EventMerger merger(index, dir.File("t"), ReadAhead::kThread);
  uint64_t events = 0;
  while (merger.Next()) ++events;
  ASSERT_TRUE(merger.error());
  EXPECT_GT(events, 0u);
  EXPECT_LT(events, index.event_count);
}

}  // namespace
}  // namespace tierscope::testing
