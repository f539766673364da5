// The ring reader against synthetic rings written the way the kernel writes them.
#include "ring_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "sample_record.h"

namespace tierscope::recorder::sampling {
namespace {

// A ring with a small data area so records wrap; the writer plays the kernel.
class FakeRing {
 public:
  explicit FakeRing(size_t data_size) : memory_(new uint64_t[(4096 + data_size) / 8]()) {
    view_.meta = reinterpret_cast<perf_event_mmap_page*>(memory_.get());
    view_.data = reinterpret_cast<uint8_t*>(memory_.get()) + 4096;
    view_.data_size = data_size;
  }
  // Appends one record (header + 8-byte words) at data_head, wrapping, and publishes it.
  void Write(uint32_t type, const std::vector<uint64_t>& words) {
    perf_event_header h{type, 0, static_cast<uint16_t>(sizeof h + 8 * words.size())};
    std::vector<uint8_t> bytes(h.size);
    std::memcpy(bytes.data(), &h, sizeof h);
    std::memcpy(bytes.data() + sizeof h, words.data(), 8 * words.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
      view_.data[(head_ + i) % view_.data_size] = bytes[i];
    }
    head_ += bytes.size();
    __atomic_store_n(&view_.meta->data_head, head_, __ATOMIC_RELEASE);
  }
  void SetTail(uint64_t tail) {
    head_ = tail;
    view_.meta->data_head = tail;
    view_.meta->data_tail = tail;
  }
  const RingView& view() const { return view_; }
  uint64_t head() const { return head_; }

 private:
  std::unique_ptr<uint64_t[]> memory_;
  RingView view_;
  uint64_t head_ = 0;
};

struct Collector : RecordVisitor {
  std::vector<std::vector<uint8_t>> records;
  void OnSample(const uint8_t* record, size_t size) override {
    records.emplace_back(record, record + size);
  }
};

constexpr uint64_t kFaultType =
    PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR;

std::vector<uint64_t> FaultSample(uint64_t n) {
  return {0x400000 + n, (uint64_t{77} << 32) | 66, 1000 + n, 0x7f0000000000 + 4096 * n};
}

class RingTest : public ::testing::Test {
 protected:
  std::unique_ptr<uint8_t[]> scratch_{new uint8_t[kMaxRecordBytes]};
};

TEST_F(RingTest, SamplesInOrderAndTailReleased) {
  FakeRing ring(1024);
  for (uint64_t i = 0; i < 5; ++i) ring.Write(PERF_RECORD_SAMPLE, FaultSample(i));
  Collector c;
  RingStats stats;
  EXPECT_EQ(DrainRing(ring.view(), &c, &stats, scratch_.get()), ring.head());
  EXPECT_EQ(ring.view().meta->data_tail, ring.head());
  ASSERT_EQ(c.records.size(), 5u);
  EXPECT_EQ(stats.samples, 5u);
  for (uint64_t i = 0; i < 5; ++i) {
    PerfSample s;
    ASSERT_TRUE(ParsePerfSample(c.records[i].data(), c.records[i].size(), kFaultType, 0, &s));
    EXPECT_EQ(s.ip, 0x400000 + i);
    EXPECT_EQ(s.pid, 66u);
    EXPECT_EQ(s.tid, 77u);
    EXPECT_EQ(s.time, 1000 + i);
    EXPECT_EQ(s.addr, 0x7f0000000000 + 4096 * i);
  }
}

TEST_F(RingTest, RecordsWrappingTheEndAreCopiedWhole) {
  // 40-byte records in a 256-byte ring starting near the end: several wrap mid-record.
  FakeRing ring(256);
  ring.SetTail(1000);  // 1000 % 256 = 232: the first record already wraps
  Collector c;
  RingStats stats;
  for (int round = 0; round < 20; ++round) {
    for (uint64_t i = 0; i < 4; ++i) ring.Write(PERF_RECORD_SAMPLE, FaultSample(round * 4 + i));
    DrainRing(ring.view(), &c, &stats, scratch_.get());
  }
  ASSERT_EQ(c.records.size(), 80u);
  for (uint64_t i = 0; i < 80; ++i) {
    PerfSample s;
    ASSERT_TRUE(ParsePerfSample(c.records[i].data(), c.records[i].size(), kFaultType, 0, &s));
    EXPECT_EQ(s.addr, 0x7f0000000000 + 4096 * i) << "record " << i;
    EXPECT_EQ(s.time, 1000 + i);
  }
}

TEST_F(RingTest, LostThrottleAndOtherRecordsAreCounted) {
  FakeRing ring(512);
  ring.Write(PERF_RECORD_SAMPLE, FaultSample(0));
  ring.Write(PERF_RECORD_LOST, {/*id*/ 1, /*lost*/ 17});
  ring.Write(PERF_RECORD_THROTTLE, {123, 1, 1});
  ring.Write(PERF_RECORD_UNTHROTTLE, {124, 1, 1});
  ring.Write(PERF_RECORD_LOST, {1, 5});
  ring.Write(PERF_RECORD_COMM, {0, 0});
  ring.Write(PERF_RECORD_SAMPLE, FaultSample(1));
  Collector c;
  RingStats stats;
  DrainRing(ring.view(), &c, &stats, scratch_.get());
  EXPECT_EQ(stats.samples, 2u);
  EXPECT_EQ(stats.lost, 22u);
  EXPECT_EQ(stats.throttles, 1u);
  EXPECT_EQ(stats.unthrottles, 1u);
  EXPECT_EQ(stats.other, 1u);
  EXPECT_EQ(c.records.size(), 2u);
}

TEST_F(RingTest, PartialReadsStopAtRecordBoundaries) {
  FakeRing ring(1024);
  for (uint64_t i = 0; i < 6; ++i) ring.Write(PERF_RECORD_SAMPLE, FaultSample(i));  // 40 B each
  Collector c;
  RingStats stats;
  EXPECT_EQ(DrainRing(ring.view(), &c, &stats, scratch_.get(), 100), 80u);  // 2 fit, not 2.5
  EXPECT_EQ(c.records.size(), 2u);
  EXPECT_EQ(ring.view().meta->data_tail, 80u);
  EXPECT_EQ(DrainRing(ring.view(), &c, &stats, scratch_.get(), 40), 40u);
  EXPECT_EQ(DrainRing(ring.view(), &c, &stats, scratch_.get()), 120u);
  ASSERT_EQ(c.records.size(), 6u);
  PerfSample s;
  ASSERT_TRUE(ParsePerfSample(c.records[5].data(), c.records[5].size(), kFaultType, 0, &s));
  EXPECT_EQ(s.time, 1005u);
  EXPECT_EQ(DrainRing(ring.view(), &c, &stats, scratch_.get()), 0u) << "nothing new";
}

TEST_F(RingTest, ImpossibleSizeDropsTheRestInsteadOfLooping) {
  FakeRing ring(512);
  ring.Write(PERF_RECORD_SAMPLE, FaultSample(0));
  perf_event_header bad{PERF_RECORD_SAMPLE, 0, 0};  // size 0 would never advance
  std::memcpy(ring.view().data + 40, &bad, sizeof bad);
  ring.view().meta->data_head = 40 + 48;
  Collector c;
  RingStats stats;
  DrainRing(ring.view(), &c, &stats, scratch_.get());
  EXPECT_EQ(stats.samples, 1u);
  EXPECT_EQ(stats.corrupt, 1u);
  EXPECT_EQ(ring.view().meta->data_tail, 88u);
}

TEST(PerfSampleParse, TimerRegistersInMaskOrderAndTruncation) {
  constexpr uint64_t type =
      PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_REGS_USER;
  std::vector<uint64_t> words = {0x401000, (uint64_t{9} << 32) | 8, 555, PERF_SAMPLE_REGS_ABI_64};
  for (int i = 0; i < kTimerRegCount; ++i) words.push_back(100 + i);
  std::vector<uint8_t> rec(8 + 8 * words.size());
  perf_event_header h{PERF_RECORD_SAMPLE, 0, static_cast<uint16_t>(rec.size())};
  std::memcpy(rec.data(), &h, 8);
  std::memcpy(rec.data() + 8, words.data(), 8 * words.size());
  PerfSample s;
  ASSERT_TRUE(ParsePerfSample(rec.data(), rec.size(), type, kTimerRegsMask, &s));
  EXPECT_EQ(s.nregs, kTimerRegCount);
  EXPECT_EQ(s.regs[kRegAx], 100u);
  EXPECT_EQ(s.regs[kRegIp], 108u);
  EXPECT_EQ(s.regs[kRegR8], 112u);
  EXPECT_EQ(s.regs[kRegR15], 119u);
  EXPECT_FALSE(ParsePerfSample(rec.data(), rec.size() - 8, type, kTimerRegsMask, &s));
  EXPECT_FALSE(
      ParsePerfSample(rec.data(), rec.size(), type | PERF_SAMPLE_CALLCHAIN, kTimerRegsMask, &s));
}

// A PEBS or IBS record, laid out as the kernel writes it for the sample type our attributes ask
// for (IP, TID, TIME, ADDR, WEIGHT, DATA_SRC), parsed and turned into the trace's sample: the
// branch of the drain that no machine here can feed with real records.
std::vector<uint8_t> MemoryRecord(uint64_t addr, uint64_t weight, uint64_t data_src) {
  const std::vector<uint64_t> words = {0x401234, (uint64_t{7} << 32) | 5, 1000, addr, weight,
                                       data_src};
  std::vector<uint8_t> rec(8 + 8 * words.size());
  perf_event_header h{PERF_RECORD_SAMPLE, 0, static_cast<uint16_t>(rec.size())};
  std::memcpy(rec.data(), &h, 8);
  std::memcpy(rec.data() + 8, words.data(), 8 * words.size());
  return rec;
}

TEST(PerfSampleParse, PebsAndIbsRecordsBecomeAccessSamples) {
  // IBS's attribute, built as the sampler builds it; PEBS events ask for the same sample type
  // (PebsForced.DefaultEventsPerModel).
  IbsFeatures ibs;
  ibs.pmu_type = 11;
  const std::vector<uint64_t> types = {IbsOpAttr(ibs, 4096, false).sample_type};
  // PERF_MEM_OP_LOAD (2), PERF_MEM_OP_STORE (4) in data_src's low bits.
  const uint64_t load = PERF_MEM_OP_LOAD, store = PERF_MEM_OP_STORE;
  for (const uint64_t type : types) {
    SCOPED_TRACE(type);
    PerfSample s;
    formats::AccessSample out;
    auto rec = MemoryRecord(0x7f0000001000, 250, load | (uint64_t{1} << 5));
    ASSERT_TRUE(ParsePerfSample(rec.data(), rec.size(), type, 0, &s));
    EXPECT_EQ(s.tid, 7u);
    EXPECT_EQ(s.time, 1000u);
    ASSERT_TRUE(ToMemoryAccess(s, false, &out));
    EXPECT_EQ(out.address, 0x7f0000001000u);
    EXPECT_EQ(out.weight, 250u);
    EXPECT_EQ(out.data_source, load | (uint64_t{1} << 5));
    EXPECT_EQ(out.access, trace::ACCESS_LOAD);

    rec = MemoryRecord(0x7f0000002000, uint64_t{1} << 40, store);
    ASSERT_TRUE(ParsePerfSample(rec.data(), rec.size(), type, 0, &s));
    ASSERT_TRUE(ToMemoryAccess(s, false, &out));
    EXPECT_EQ(out.access, trace::ACCESS_STORE);
    EXPECT_EQ(out.weight, UINT32_MAX);  // clamped, not wrapped

    // No data source: a PEBS store event's samples are stores, others unknown.
    rec = MemoryRecord(0x7f0000003000, 0, 0);
    ASSERT_TRUE(ParsePerfSample(rec.data(), rec.size(), type, 0, &s));
    ASSERT_TRUE(ToMemoryAccess(s, true, &out));
    EXPECT_EQ(out.access, trace::ACCESS_STORE);
    ASSERT_TRUE(ToMemoryAccess(s, false, &out));
    EXPECT_EQ(out.access, trace::ACCESS_UNKNOWN);

    // An op without a data address (IBS samples every op) is not an access sample.
    rec = MemoryRecord(0, 0, load);
    ASSERT_TRUE(ParsePerfSample(rec.data(), rec.size(), type, 0, &s));
    EXPECT_FALSE(ToMemoryAccess(s, false, &out));
    // A record cut short is refused, not read past its end.
    EXPECT_FALSE(ParsePerfSample(rec.data(), rec.size() - 8, type, 0, &s));
  }
}

}  // namespace
}  // namespace tierscope::recorder::sampling
