#include "ring_reader.h"

#include <algorithm>
#include <cstring>

namespace tierscope::recorder::sampling {
namespace {

struct LostRecord {
  perf_event_header header;
  uint64_t id;
  uint64_t lost;
};

void CopyOut(const RingView& ring, uint64_t offset, void* dst, size_t size) {
  const uint64_t mask = ring.data_size - 1;
  const uint64_t start = offset & mask;
  const size_t first = static_cast<size_t>(std::min<uint64_t>(size, ring.data_size - start));
  std::memcpy(dst, ring.data + start, first);
  if (first < size) std::memcpy(static_cast<uint8_t*>(dst) + first, ring.data, size - first);
}

}  // namespace

RingView MakeRingView(void* base, size_t page_size, size_t data_pages) {
  RingView view;
  view.meta = static_cast<perf_event_mmap_page*>(base);
  view.data = static_cast<uint8_t*>(base) + page_size;
  view.data_size = uint64_t{page_size} * data_pages;
  return view;
}

uint64_t DrainRing(const RingView& ring, RecordVisitor* visitor, RingStats* stats, uint8_t* scratch,
                   uint64_t max_bytes) {
  const uint64_t head = __atomic_load_n(&ring.meta->data_head, __ATOMIC_ACQUIRE);
  const uint64_t start = ring.meta->data_tail;  // only we write it
  uint64_t tail = start;
  const uint64_t mask = ring.data_size - 1;
  while (tail < head && tail - start < max_bytes) {
    perf_event_header header;
    CopyOut(ring, tail, &header, sizeof header);
    if (header.size < sizeof header || header.size % 8 != 0 || header.size > head - tail ||
        header.size > kMaxRecordBytes) {
      ++stats->corrupt;  // cannot find the next record boundary: drop what is there
      tail = head;
      break;
    }
    if (tail - start + header.size > max_bytes) break;  // partial read: leave it for next time
    const uint8_t* record;
    if ((tail & mask) + header.size <= ring.data_size) {
      record = ring.data + (tail & mask);
    } else {
      CopyOut(ring, tail, scratch, header.size);
      record = scratch;
    }
    switch (header.type) {
      case PERF_RECORD_SAMPLE:
        ++stats->samples;
        visitor->OnSample(record, header.size);
        break;
      case PERF_RECORD_LOST:
        if (header.size >= sizeof(LostRecord)) {
          LostRecord lost;
          std::memcpy(&lost, record, sizeof lost);
          stats->lost += lost.lost;
        }
        break;
      case PERF_RECORD_THROTTLE:
        ++stats->throttles;
        break;
      case PERF_RECORD_UNTHROTTLE:
        ++stats->unthrottles;
        break;
      default:
        ++stats->other;
        break;
    }
    tail += header.size;
  }
  __atomic_store_n(&ring.meta->data_tail, tail, __ATOMIC_RELEASE);
  return tail - start;
}

}  // namespace tierscope::recorder::sampling
