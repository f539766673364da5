// What a cursor over an event batch would yield, learned without materializing the events, and a
// bulk decoder for the events it vouched for. A reader that indexes a trace first (the analyzer's
// streaming join) needs each batch's time span and length up front, but decodes a batch only when
// its turn comes; the bulk decoders skip the cursor's per-event checks, which the summary did once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"
#include "trace.pb.h"

namespace tierscope::formats {

struct BatchSummary {
  int events = 0;              // how many events a cursor yields before the end or its error
  uint64_t first_time_ns = 0;  // of the first and last of those events (when events > 0)
  uint64_t last_time_ns = 0;
  std::string error;  // what the cursor reports after them; empty when the batch is sound
};

BatchSummary SummarizeAllocBatch(const trace::AllocBatch& batch);
BatchSummary SummarizeSampleBatch(const trace::SampleBatch& batch);

// Calls sink(const AllocEvent&) for the first `events` events of `batch`, exactly as
// AllocBatchCursor yields them, straight from the columns: the summary checked once what the
// cursor checks per event (column lengths, back-references), so this does not (the cursor's
// checks and calls were ~10% of `tierscope analyze`). `events` must come from
// SummarizeAllocBatch of the same batch.
template <class Sink>
void DecodeAllocBatch(const trace::AllocBatch& batch, int events, Sink&& sink) {
  if (events <= 0) return;
  const uint64_t unit = batch.time_unit_ns() == 0 ? 1 : batch.time_unit_ns();
  const uint64_t* time_deltas = batch.time_delta_ns().data();
  const int* kinds = batch.kind().data();
  const int64_t* address_deltas = batch.address_delta().data();
  const uint64_t* sizes = batch.size().data();
  const uint32_t* stacks = batch.stack_id().data();
  const uint32_t* refs = batch.address_ref_size() > 0 ? batch.address_ref().data() : nullptr;
  // The latest addresses of allocations and of releases, for back-references (as the cursor's
  // rings: a reference among the first `events` reaches at most min(events, window) back).
  uint32_t ring = 1;
  while (refs && ring < std::min<uint32_t>(static_cast<uint32_t>(events), kAddressRefWindow)) {
    ring <<= 1;
  }
  std::vector<uint64_t> allocated(refs ? ring : 0), released(refs ? ring : 0);
  const uint32_t mask = ring - 1;
  uint32_t allocations = 0, releases = 0;
  int next_delta = 0, next_size = 0, next_stack = 0;
  uint64_t time = batch.first_time_ns(), address = 0;
  AllocEvent e;
  for (int i = 0; i < events; ++i) {
    e.kind = static_cast<trace::EventKind>(kinds[i]);
    const bool allocation = KindIsAllocation(e.kind), release = KindIsRelease(e.kind);
    time += time_deltas[i] * unit;
    e.time_ns = time;
    if (!refs) {
      address += static_cast<uint64_t>(address_deltas[i]);
    } else {
      if (refs[i] == 0) {
        address += static_cast<uint64_t>(address_deltas[next_delta++]);
      } else if (allocation) {
        address = released[(releases - refs[i]) & mask];
      } else {
        address = allocated[(allocations - refs[i]) & mask];
      }
      if (allocation) allocated[allocations++ & mask] = address;
      if (release) released[releases++ & mask] = address;
    }
    e.address = address;
    e.size = KindHasSize(e.kind) ? sizes[next_size++] : 0;
    e.stack_id = allocation ? stacks[next_stack++] : 0;
    sink(e);
  }
}

// Calls sink(const AccessSample&) for the first `events` samples of `batch`, as SampleBatchCursor
// yields them; `events` from SummarizeSampleBatch.
template <class Sink>
void DecodeSampleBatch(const trace::SampleBatch& batch, int events, Sink&& sink) {
  AccessSample s;
  uint64_t time = batch.first_time_ns(), ip = 0, address = 0;
  const bool weights = batch.weight_size() != 0, sources = batch.data_source_size() != 0,
             shifts = batch.period_shift_size() != 0;
  for (int i = 0; i < events; ++i) {
    time += batch.time_delta_ns(i);
    ip += static_cast<uint64_t>(batch.ip_delta(i));
    address += static_cast<uint64_t>(batch.address_delta(i));
    s.time_ns = time;
    s.ip = ip;
    s.address = address;
    s.access = static_cast<trace::AccessKind>(batch.access(i));
    s.weight = weights ? batch.weight(i) : 1;
    s.data_source = sources ? batch.data_source(i) : 0;
    s.period_shift = shifts ? ShiftOf(batch.period_shift(i)) : 0;
    sink(s);
  }
}

}  // namespace tierscope::formats
