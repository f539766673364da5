#include "tierscope/formats/block_cuts.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "test_support.h"
#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::formats {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::TempDir;

// A chunk as the recorder writes one: a few stacks, then two threads' batches of `events`
// malloc/free pairs with random sizes (columns of several KiB each).
trace::TraceChunk BigChunk(int events) {
  trace::TraceChunk chunk;
  for (int s = 0; s < 20; ++s) {
    auto* stack = chunk.add_stacks();
    stack->set_id(s);
    stack->add_frames(0x555500001000 + 16 * s);
  }
  std::mt19937_64 rng(3);
  for (uint32_t tid : {10u, 11u}) {
    trace::AllocBatch* batch = chunk.add_allocs();
    batch->set_tid(tid);
    AllocBatchBuilder builder(batch, 64);
    uint64_t t = 1'000'000;
    for (int i = 0; i < events; ++i) {
      const uint64_t address = 0x7f0000000000 + (rng() % (1 << 20)) * 16;
      builder.Add({t += rng() % 500, trace::MALLOC, address, 16 + rng() % 4081,
                   static_cast<uint32_t>(rng() % 20)});
      builder.Add({t += rng() % 500, trace::FREE, address, 0, 0});
    }
  }
  return chunk;
}

// Offsets where a field of the chunk (stacks, then alloc batches) or of one of its alloc batches
// starts, from the messages' sizes: protobuf writes fields in field-number order, so a field
// starts after the serialized size of the fields numbered below it.
std::set<size_t> FieldStarts(const trace::TraceChunk& chunk) {
  std::set<size_t> starts;
  size_t at = 0;
  auto field = [&](const google::protobuf::Message& m) {
    starts.insert(at);
    const uint32_t size = static_cast<uint32_t>(m.ByteSizeLong());
    at += 1 + google::protobuf::io::CodedOutputStream::VarintSize32(size);  // tag, length
    return size;
  };
  for (const auto& s : chunk.stacks()) at += field(s);
  for (const auto& b : chunk.allocs()) {
    const uint32_t size = field(b);
    const auto* descriptor = b.GetDescriptor();
    for (int f = 0; f < descriptor->field_count(); ++f) {
      const auto* fd = descriptor->field(f);
      const auto* r = b.GetReflection();
      if (fd->is_repeated() ? r->FieldSize(b, fd) == 0 : !r->HasField(b, fd)) continue;
      trace::AllocBatch below = b;
      for (int g = 0; g < descriptor->field_count(); ++g) {
        if (descriptor->field(g)->number() >= fd->number()) {
          below.GetReflection()->ClearField(&below, descriptor->field(g));
        }
      }
      starts.insert(at + below.ByteSizeLong());
    }
    at += size;
  }
  return starts;
}

TEST(BlockCuts, CutsFallOnFieldStartsAtLeastMinBlockApart) {
  const trace::TraceChunk chunk = BigChunk(20000);
  std::string bytes;
  chunk.SerializeToString(&bytes);
  std::vector<size_t> cuts;
  BlockCuts(bytes, &cuts);
  const std::set<size_t> starts = FieldStarts(chunk);
  // Two batches of six columns, most of them far longer than a frame's minimum.
  EXPECT_GE(cuts.size(), 8u);
  size_t last = 0;
  for (size_t cut : cuts) {
    EXPECT_TRUE(starts.count(cut)) << cut << " is not where a field starts";
    EXPECT_GE(cut, last + kMinBlockBytes);
    EXPECT_LT(cut, bytes.size());
    last = cut;
  }
}

TEST(BlockCuts, SmallChunksAndBytesThatAreNoMessageGetNoCuts) {
  std::vector<size_t> cuts = {1, 2, 3};
  std::string bytes;
  BigChunk(10).SerializeToString(&bytes);
  BlockCuts(bytes, &cuts);
  EXPECT_TRUE(cuts.empty());
  // A tag of wire type 7 does not exist: the walk stops at the first byte.
  BlockCuts(std::string(100000, '\xff'), &cuts);
  EXPECT_TRUE(cuts.empty());
}

// Whatever the bytes (a cut-short or damaged chunk), the cuts stay in range, ascending and apart.
TEST(BlockCuts, DamagedBytesGiveCutsInRangeOrNone) {
  std::string bytes;
  BigChunk(5000).SerializeToString(&bytes);
  std::mt19937_64 rng(11);
  std::vector<size_t> cuts;
  for (int round = 0; round < 300; ++round) {
    std::string damaged = bytes.substr(0, rng() % (bytes.size() + 1));
    for (int flips = round % 4; flips > 0 && !damaged.empty(); --flips) {
      damaged[rng() % damaged.size()] = static_cast<char>(rng());
    }
    BlockCuts(damaged, &cuts, 1024);
    size_t last = 0;
    for (size_t cut : cuts) {
      ASSERT_GE(cut, last + 1024) << "round " << round;
      ASSERT_LT(cut, damaged.size()) << "round " << round;
      last = cut;
    }
  }
}

TEST(BlockCuts, ATraceWrittenInBlocksReadsBackTheSameAndSmaller) {
  TempDir dir;
  const trace::TraceChunk chunk = BigChunk(20000);
  {
    TraceWriter writer(dir.File("t.trace"), 1);
    writer.Append(chunk);
    writer.Close();
  }
  TraceReader reader(dir.File("t.trace"));
  trace::TraceChunk back;
  ChunkInfo info;
  ASSERT_TRUE(reader.Next(&back, &info)) << reader.error()->Message();
  EXPECT_TRUE(MessageDifferencer::Equals(chunk, back));
  EXPECT_FALSE(reader.Next(&back));
  EXPECT_FALSE(reader.error());
  // The same bytes without cuts, through the container directly.
  {
    std::string raw;
    chunk.SerializeToString(&raw);
    ContainerWriter one(dir.File("one"), FileKind::kTrace, 1);
    const ChunkInfo single = one.Append(raw);
    one.Close();
    EXPECT_LT(info.compressed_size, single.compressed_size);
  }
}

}  // namespace
}  // namespace tierscope::formats
