// What a cursor over an event batch would yield, learned without materializing the events, and a
// bulk decoder for the events it vouched for. A reader that indexes a trace first (the analyzer's
// streaming join) needs each batch's time span and length up front, but decodes a batch only when
// its turn comes; the bulk decoders skip the cursor's per-event checks, which the summary did once.
#pragma once

#include <cstdint>
#include <string>

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
// AllocBatchCursor yields them (it is the cursor: address back-references need its rings).
// `events` must come from SummarizeAllocBatch of the same batch.
template <class Sink>
void DecodeAllocBatch(const trace::AllocBatch& batch, int events, Sink&& sink) {
  AllocBatchCursor cursor(batch);
  AllocEvent e;
  for (int i = 0; i < events && cursor.Next(&e); ++i) sink(e);
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
