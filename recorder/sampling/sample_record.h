// The fields of one PERF_RECORD_SAMPLE, laid out by the kernel in sample_type bit order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "perf_attr.h"
#include "tierscope/formats/sample_columns.h"

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

// A PEBS or IBS sample as the trace keeps it: the data address, the weight (load latency) and the
// data source; a store or a load from the data source's mem_op, else from the event
// (`store_event`: a PEBS store event, whose samples are stores even without a data source). False
// when the sample has no data address (an IBS op that was not a memory op).
bool ToMemoryAccess(const PerfSample& s, bool store_event, formats::AccessSample* out);

}  // namespace tierscope::recorder::sampling
