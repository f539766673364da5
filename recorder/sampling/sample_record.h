// The fields of one PERF_RECORD_SAMPLE, laid out by the kernel in sample_type bit order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "perf_attr.h"

namespace tierscope::recorder::sampling {

struct PerfSample {
  uint64_t ip = 0;
  uint32_t pid = 0, tid = 0;
  uint64_t time = 0;
  uint64_t addr = 0;
  uint64_t weight = 0;
  uint64_t data_src = 0;
  uint64_t regs_abi = PERF_SAMPLE_REGS_ABI_NONE;  // NONE: the sample hit no user context
  uint64_t regs[kTimerRegCount] = {};             // mask-bit order (perf_attr.h PerfRegSlot)
  int nregs = 0;
};

// Parses `record` (header included) for an event opened with `sample_type` and `regs_mask`.
// False when the record is too short or asks for a sample type we never request.
bool ParsePerfSample(const uint8_t* record, size_t size, uint64_t sample_type, uint64_t regs_mask,
                     PerfSample* out);

}  // namespace tierscope::recorder::sampling
