// Reads records out of a perf_event mmap ring. The kernel publishes data_head (read with acquire)
// and we give space back through data_tail (stored with release). Records are 8-byte aligned and
// may wrap past the end of the data area: those are copied out so visitors always see one
// contiguous record.
#pragma once

#include <linux/perf_event.h>

#include <cstddef>
#include <cstdint>

namespace tierscope::recorder::sampling {

struct RingStats {
  uint64_t samples = 0;      // PERF_RECORD_SAMPLE records handed to the visitor
  uint64_t lost = 0;         // samples the kernel dropped (sum of PERF_RECORD_LOST.lost)
  uint64_t throttles = 0;    // PERF_RECORD_THROTTLE
  uint64_t unthrottles = 0;  // PERF_RECORD_UNTHROTTLE
  uint64_t other = 0;        // records of other types, skipped
  uint64_t corrupt = 0;      // impossible record sizes: the rest of the ring was dropped
};

class RecordVisitor {
 public:
  virtual ~RecordVisitor() = default;
  // One PERF_RECORD_SAMPLE, header included; valid only during the call.
  virtual void OnSample(const uint8_t* record, size_t size) = 0;
};

// A mapped ring: the control page followed by data_size bytes (a power of two).
struct RingView {
  perf_event_mmap_page* meta = nullptr;
  uint8_t* data = nullptr;
  uint64_t data_size = 0;
};

// A view over a ring mapped at `base` with `data_pages` pages of data after the control page.
RingView MakeRingView(void* base, size_t page_size, size_t data_pages);

// Records larger than this are treated as corrupt (ours are well under 1 KiB).
inline constexpr size_t kMaxRecordBytes = 1 << 16;

// Visits complete records from data_tail up to data_head, at most `max_bytes` of them (the rest
// stays for the next call), then releases them. Returns the bytes consumed. Single consumer.
// `scratch` (kMaxRecordBytes, 8-byte aligned, owned by the caller) receives wrapped records.
uint64_t DrainRing(const RingView& ring, RecordVisitor* visitor, RingStats* stats, uint8_t* scratch,
                   uint64_t max_bytes = UINT64_MAX);

}  // namespace tierscope::recorder::sampling
