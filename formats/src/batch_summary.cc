#include "tierscope/formats/batch_summary.h"

namespace tierscope::formats {

// Mirrors AllocBatchCursor::Next: the same checks in the same order, so the count and the error
// are the cursor's; only the time column is accumulated, and back-references are checked by
// counting allocations and releases, without the cursor's address rings.
BatchSummary SummarizeAllocBatch(const trace::AllocBatch& batch) {
  BatchSummary out;
  const int n = batch.kind_size();
  if (n == 0) return out;
  const bool refs = batch.address_ref_size() > 0;
  if (batch.time_delta_ns_size() != n ||
      (refs ? batch.address_ref_size() : batch.address_delta_size()) != n) {
    out.error = "alloc batch columns have different lengths";
    return out;
  }
  const uint64_t unit = batch.time_unit_ns() == 0 ? 1 : batch.time_unit_ns();
  int sizes_left = batch.size_size(), stacks_left = batch.stack_id_size();
  int deltas_left = batch.address_delta_size();
  uint32_t allocations = 0, releases = 0;
  uint64_t time = batch.first_time_ns();
  for (int i = 0; i < n; ++i) {
    const auto kind = static_cast<trace::EventKind>(batch.kind(i));
    const bool allocation = KindIsAllocation(kind), release = KindIsRelease(kind);
    time += batch.time_delta_ns(i) * unit;
    if (refs) {
      const uint32_t back = batch.address_ref(i);
      if (back == 0 && deltas_left-- == 0) {
        out.error = "alloc batch address column is short";
        break;
      }
      if (back != 0 && !allocation && !release) {
        out.error = "alloc batch address reference on an unknown event";
        break;
      }
      if (back != 0 && (back > (allocation ? releases : allocations) || back > kAddressRefWindow)) {
        out.error = "alloc batch address reference points before its batch";
        break;
      }
      allocations += allocation;
      releases += release;
    }
    if (KindHasSize(kind) && sizes_left-- == 0) {
      out.error = "alloc batch size column is short";
      break;
    }
    if (allocation && stacks_left-- == 0) {
      out.error = "alloc batch stack column is short";
      break;
    }
    if (i == 0) out.first_time_ns = time;
    out.last_time_ns = time;
    ++out.events;
  }
  return out;
}

// Mirrors SampleBatchCursor::Next: every column is checked once, before the first sample.
BatchSummary SummarizeSampleBatch(const trace::SampleBatch& batch) {
  BatchSummary out;
  const int n = batch.access_size();
  if (n == 0) return out;
  if (batch.time_delta_ns_size() != n || batch.ip_delta_size() != n ||
      batch.address_delta_size() != n || (batch.weight_size() != 0 && batch.weight_size() != n) ||
      (batch.data_source_size() != 0 && batch.data_source_size() != n) ||
      (batch.period_shift_size() != 0 && batch.period_shift_size() != n)) {
    out.error = "sample batch columns have different lengths";
    return out;
  }
  uint64_t time = batch.first_time_ns();
  out.first_time_ns = time + batch.time_delta_ns(0);
  for (int i = 0; i < n; ++i) time += batch.time_delta_ns(i);
  out.last_time_ns = time;
  out.events = n;
  return out;
}

}  // namespace tierscope::formats
