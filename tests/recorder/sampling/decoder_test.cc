// The decoder on real instructions: each snippet runs, a SIGILL right after the access captures
// the registers (as a timer sample would), and the decoded address must be the one the access
// actually touched. Then a thread samples itself with the real task-clock timer.
#include "address_decoder.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "decoder_snippets.h"
#include "perf_open.h"
#include "ring_reader.h"
#include "sample_record.h"

namespace tierscope::recorder::sampling {
namespace {

uint64_t g_regs[kTimerRegCount];

void OnSigill(int, siginfo_t*, void* context) {
  const greg_t* g = static_cast<ucontext_t*>(context)->uc_mcontext.gregs;
  const int order[kTimerRegCount] = {REG_RAX,    REG_RBX,    REG_RCX, REG_RDX, REG_RSI,
                                     REG_RDI,    REG_RBP,    REG_RSP, REG_RIP, REG_EFL,
                                     REG_CSGSFS, REG_CSGSFS, REG_R8,  REG_R9,  REG_R10,
                                     REG_R11,    REG_R12,    REG_R13, REG_R14, REG_R15};
  for (int i = 0; i < kTimerRegCount; ++i) g_regs[i] = static_cast<uint64_t>(g[order[i]]);
  static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RIP] += 2;  // step over ud2
}

class DecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = OnSigill;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &sa, &old_);
  }
  void TearDown() override { sigaction(SIGILL, &old_, nullptr); }

  UndecodedReason DecodeCaptured(DecodedAccess* out) { return decoder_.Decode(g_regs, out); }

  AddressDecoder decoder_;
  struct sigaction old_;
};

TEST_F(DecoderTest, LoadBaseIndexScaleDisp) {
  std::vector<uint64_t> buf(64);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = i;  // the value loaded names its slot
  for (uint64_t index : {0, 3, 40}) {
    const uint64_t loaded = ts_snip_load_bisd(buf.data(), index);
    DecodedAccess a;
    ASSERT_EQ(DecodeCaptured(&a), UndecodedReason::kNone);
    EXPECT_EQ(a.address, reinterpret_cast<uint64_t>(&buf[loaded]));
    EXPECT_FALSE(a.is_store);
    EXPECT_EQ(a.instruction, reinterpret_cast<uint64_t>(&ts_snip_load_bisd));
  }
}

TEST_F(DecoderTest, StoreBaseIndexScaleDisp) {
  for (uint64_t index : {0, 5, 17}) {
    std::vector<uint32_t> buf(32, 0);
    ts_snip_store_bisd(buf.data(), index, 0xdeadbeef);
    size_t touched = buf.size();
    for (size_t i = 0; i < buf.size(); ++i) {
      if (buf[i] == 0xdeadbeef) touched = i;
    }
    ASSERT_LT(touched, buf.size());
    DecodedAccess a;
    ASSERT_EQ(DecodeCaptured(&a), UndecodedReason::kNone);
    EXPECT_EQ(a.address, reinterpret_cast<uint64_t>(&buf[touched]));
    EXPECT_TRUE(a.is_store);
  }
}

TEST_F(DecoderTest, AvxLoad) {
  alignas(32) uint8_t buf[128];
  for (int i = 0; i < 128; ++i) buf[i] = static_cast<uint8_t>(i);
  const uint64_t first8 = ts_snip_avx_load(buf);
  DecodedAccess a;
  ASSERT_EQ(DecodeCaptured(&a), UndecodedReason::kNone);
  EXPECT_EQ(a.address, reinterpret_cast<uint64_t>(buf + (first8 & 0xff)));
  EXPECT_FALSE(a.is_store);
}

TEST_F(DecoderTest, WalksBackOverInstructionsThatLeaveTheBaseAlone) {
  std::vector<uint64_t> buf = {10, 11, 12};
  EXPECT_EQ(ts_snip_load_then_alu(buf.data(), 2, 3), 11u);
  DecodedAccess a;
  ASSERT_EQ(DecodeCaptured(&a), UndecodedReason::kNone);
  EXPECT_EQ(a.address, reinterpret_cast<uint64_t>(&buf[1]));
}

TEST_F(DecoderTest, LoadOverwritingItsOwnBaseIsRejected) {
  uint64_t target[4] = {1, 2, 3, 4};
  uint64_t* pointer = &target[2];
  EXPECT_EQ(ts_snip_self_base(&pointer), reinterpret_cast<uint64_t>(&target[2]));
  DecodedAccess a;
  // Decoding would give &target[2] (the loaded value), not &pointer (what was touched).
  EXPECT_EQ(DecodeCaptured(&a), UndecodedReason::kRegisterOverwritten);
}

TEST_F(DecoderTest, BaseChangedAfterTheAccessIsRejected) {
  std::vector<uint64_t> buf(16, 7);
  ts_snip_load_then_bump(buf.data());
  DecodedAccess a;
  EXPECT_EQ(DecodeCaptured(&a), UndecodedReason::kRegisterOverwritten);
}

TEST_F(DecoderTest, RipRelative) {
  EXPECT_EQ(ts_snip_rip_load(), ts_snip_global);
  DecodedAccess a;
  ASSERT_EQ(DecodeCaptured(&a), UndecodedReason::kNone);
  EXPECT_EQ(a.address, reinterpret_cast<uint64_t>(&ts_snip_global));
}

TEST_F(DecoderTest, FsRelativeIsCountedNotGuessed) {
  ts_snip_fs_load();
  DecodedAccess a;
  EXPECT_EQ(DecodeCaptured(&a), UndecodedReason::kFsGsSegment);
  EXPECT_STREQ(UndecodedReasonName(UndecodedReason::kFsGsSegment), "fs_gs_segment");
}

TEST_F(DecoderTest, NoFunctionBoundsForAnonymousCode) {
  uint64_t regs[kTimerRegCount] = {};
  std::vector<uint8_t> not_code(64, 0x90);
  regs[kRegIp] = reinterpret_cast<uint64_t>(not_code.data() + 8);
  DecodedAccess a;
  EXPECT_EQ(decoder_.Decode(regs, &a), UndecodedReason::kNoFunctionBounds);
}

TEST_F(DecoderTest, CachesPlansPerIp) {
  std::vector<uint64_t> buf(64);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = i;
  for (uint64_t index = 0; index < 10; ++index) {
    const uint64_t loaded = ts_snip_load_bisd(buf.data(), index);
    DecodedAccess a;
    ASSERT_EQ(DecodeCaptured(&a), UndecodedReason::kNone);
    EXPECT_EQ(a.address, reinterpret_cast<uint64_t>(&buf[loaded]));
  }
  EXPECT_EQ(decoder_.cache_misses(), 1u);
  EXPECT_EQ(decoder_.cache_hits(), 9u);
}

// ---- Real samples: the task-clock timer on this thread. ----

struct Sampled {
  std::vector<uint64_t> addresses;  // decoded
  std::vector<UndecodedReason> rejected;
};

class SelfSampler {
 public:
  SelfSampler() {
    perf_event_attr attr = TimerAttr(50000);  // 50 µs: many samples in a short test
    attr.watermark = 0;
    attr.wakeup_events = 0;
    fd_ = PerfEventOpen(attr, 0);
    if (fd_ < 0) return;
    map_ = mmap(nullptr, 4096 * 257, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    ring_ = MakeRingView(map_, 4096, 256);
  }
  ~SelfSampler() {
    if (map_ != MAP_FAILED) munmap(map_, 4096 * 257);
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0 && map_ != MAP_FAILED; }
  int error() const { return -fd_; }
  // Decodes every sample whose IP lies in [begin, end).
  Sampled Collect(AddressDecoder* decoder, uint64_t begin, uint64_t end) {
    struct V : RecordVisitor {
      std::vector<PerfSample> samples;
      void OnSample(const uint8_t* r, size_t n) override {
        PerfSample s;
        if (ParsePerfSample(r, n, TimerAttr(1).sample_type, kTimerRegsMask, &s)) {
          samples.push_back(s);
        }
      }
    } v;
    std::unique_ptr<uint8_t[]> scratch(new uint8_t[kMaxRecordBytes]);
    RingStats stats;
    DrainRing(ring_, &v, &stats, scratch.get());
    Sampled out;
    for (const PerfSample& s : v.samples) {
      if (s.nregs != kTimerRegCount || s.regs[kRegIp] < begin || s.regs[kRegIp] >= end) continue;
      DecodedAccess a;
      UndecodedReason r = decoder->Decode(s.regs, &a);
      if (r == UndecodedReason::kNone)
        out.addresses.push_back(a.address);
      else
        out.rejected.push_back(r);
    }
    return out;
  }

 private:
  int fd_ = -1;
  void* map_ = MAP_FAILED;
  RingView ring_;
};

TEST(DecoderOnTimerSamples, HotLoopAddressesAllFallInsideTheBuffer) {
  std::vector<uint64_t> buf(1 << 16, 1);
  SelfSampler sampler;  // after the buffer is touched: its page faults would fill the ring
  ASSERT_TRUE(sampler.ok()) << ExplainOpenError("timer", sampler.error());
  uint64_t sink = 0;
  for (int i = 0; i < 20; ++i) sink += ts_hot_loop(buf.data(), buf.size() - 1, 2000000);
  EXPECT_NE(sink, 0u);
  AddressDecoder decoder;
  Sampled s = sampler.Collect(&decoder, reinterpret_cast<uint64_t>(&ts_hot_loop),
                              reinterpret_cast<uint64_t>(ts_hot_loop_end));
  const uint64_t lo = reinterpret_cast<uint64_t>(buf.data());
  const uint64_t hi = lo + buf.size() * sizeof(uint64_t);
  ASSERT_GE(s.addresses.size() + s.rejected.size(), 20u) << "too few samples in the loop";
  for (uint64_t a : s.addresses) {
    EXPECT_TRUE(a >= lo && a < hi) << std::hex << a << " outside [" << lo << ", " << hi << ")";
  }
  std::printf("hot loop: %zu decoded, %zu rejected\n", s.addresses.size(), s.rejected.size());
  // Five of the loop's seven instruction positions decode (at the IP or just before it).
  EXPECT_GT(s.addresses.size(), s.rejected.size());
}

TEST(DecoderOnTimerSamples, RepStringsInterruptedMidwayDecodeAtTheIp) {
  const size_t n = 16 << 20;
  std::vector<uint8_t> dst(n), src(n, 3);
  SelfSampler sampler;  // after the buffers are touched: their page faults would fill the ring
  ASSERT_TRUE(sampler.ok()) << ExplainOpenError("timer", sampler.error());
  for (int i = 0; i < 100; ++i) ts_rep_stos(dst.data(), n);
  AddressDecoder decoder;
  const uint64_t stos = reinterpret_cast<uint64_t>(ts_snip_rep_stos_insn);
  const uint64_t movs = reinterpret_cast<uint64_t>(ts_snip_rep_movs_insn);
  Sampled a = sampler.Collect(&decoder, stos, stos + 1);
  for (int i = 0; i < 12; ++i) ts_rep_movs(dst.data(), src.data(), n);
  Sampled b = sampler.Collect(&decoder, movs, movs + 1);
  std::printf("rep stos: %zu decoded, rep movs: %zu decoded\n", a.addresses.size(),
              b.addresses.size());
  ASSERT_GE(a.addresses.size() + b.addresses.size(), 5u) << "too few samples on rep strings";
  EXPECT_TRUE(a.rejected.empty() && b.rejected.empty());
  const uint64_t lo = reinterpret_cast<uint64_t>(dst.data()), hi = lo + n;
  for (uint64_t x : a.addresses) EXPECT_TRUE(x >= lo && x < hi) << std::hex << x;
  for (uint64_t x : b.addresses) EXPECT_TRUE(x >= lo && x < hi) << std::hex << x;
}

}  // namespace
}  // namespace tierscope::recorder::sampling
