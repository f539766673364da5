// One event of the time-ordered merge of a trace (pass 2 of the join): an allocator event or an
// access sample, decoded from its batch's columns.
#pragma once

#include <cstdint>

namespace tierscope::analyzer {

struct JoinEvent {
  uint64_t time_ns;
  uint64_t address;
  uint64_t size;      // allocation/unmap size; sample weight for samples
  uint32_t stack_id;  // allocations: their stack; samples: their period shift (AccessSample)
  uint16_t kind;      // trace::EventKind, or kSampleKind
  uint8_t access;     // trace::AccessKind for samples
  uint8_t source;     // trace::SamplerKind for samples
  uint64_t ip = 0;    // samples: the instruction pointer
};
inline constexpr uint16_t kSampleKind = 0xffff;

}  // namespace tierscope::analyzer
