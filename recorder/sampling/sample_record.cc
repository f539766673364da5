#include "sample_record.h"

#include <linux/perf_event.h>

#include <cstring>

namespace tierscope::recorder::sampling {
namespace {

class Cursor {
 public:
  Cursor(const uint8_t* p, size_t size) : p_(p), end_(p + size) {}
  bool U64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }
  bool Skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace

bool ParsePerfSample(const uint8_t* record, size_t size, uint64_t sample_type, uint64_t regs_mask,
                     PerfSample* out) {
  // Types whose layout we do not parse; none of our events asks for them.
  constexpr uint64_t kUnsupported = PERF_SAMPLE_READ | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_RAW |
                                    PERF_SAMPLE_BRANCH_STACK | PERF_SAMPLE_STACK_USER |
                                    PERF_SAMPLE_WEIGHT_STRUCT;
  if (sample_type & kUnsupported) return false;
  if (size < sizeof(perf_event_header)) return false;
  Cursor c(record + sizeof(perf_event_header), size - sizeof(perf_event_header));
  uint64_t v;
  if (sample_type & PERF_SAMPLE_IDENTIFIER && !c.U64(&v)) return false;
  if (sample_type & PERF_SAMPLE_IP && !c.U64(&out->ip)) return false;
  if (sample_type & PERF_SAMPLE_TID) {
    if (!c.U64(&v)) return false;
    out->pid = static_cast<uint32_t>(v);
    out->tid = static_cast<uint32_t>(v >> 32);
  }
  if (sample_type & PERF_SAMPLE_TIME && !c.U64(&out->time)) return false;
  if (sample_type & PERF_SAMPLE_ADDR && !c.U64(&out->addr)) return false;
  if (sample_type & PERF_SAMPLE_ID && !c.U64(&v)) return false;
  if (sample_type & PERF_SAMPLE_STREAM_ID && !c.U64(&v)) return false;
  if (sample_type & PERF_SAMPLE_CPU && !c.U64(&v)) return false;
  if (sample_type & PERF_SAMPLE_PERIOD && !c.U64(&v)) return false;
  out->nregs = 0;
  if (sample_type & PERF_SAMPLE_REGS_USER) {
    if (!c.U64(&out->regs_abi)) return false;
    if (out->regs_abi != PERF_SAMPLE_REGS_ABI_NONE) {
      const int n = __builtin_popcountll(regs_mask);
      for (int i = 0; i < n; ++i) {
        uint64_t r;
        if (!c.U64(&r)) return false;
        if (i < kTimerRegCount) out->regs[i] = r;
      }
      out->nregs = n < kTimerRegCount ? n : kTimerRegCount;
    }
  }
  if (sample_type & PERF_SAMPLE_WEIGHT && !c.U64(&out->weight)) return false;
  if (sample_type & PERF_SAMPLE_DATA_SRC && !c.U64(&out->data_src)) return false;
  return true;
}

bool ToMemoryAccess(const PerfSample& s, bool store_event, formats::AccessSample* out) {
  if (s.addr == 0) return false;
  out->address = s.addr;
  out->weight = s.weight > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(s.weight);
  out->data_source = s.data_src;
  const uint64_t mem_op = s.data_src & 0x1f;  // perf_mem_data_src.mem_op
  if (mem_op & PERF_MEM_OP_STORE) {
    out->access = trace::ACCESS_STORE;
  } else if (mem_op & PERF_MEM_OP_LOAD) {
    out->access = trace::ACCESS_LOAD;
  } else {
    out->access = store_event ? trace::ACCESS_STORE : trace::ACCESS_UNKNOWN;
  }
  return true;
}

}  // namespace tierscope::recorder::sampling
