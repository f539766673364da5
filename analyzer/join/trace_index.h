// Pass 1 of the streaming join: reads a trace once and keeps what is small (header, module maps,
// stacks, counters, footer) plus, for each event batch, only where it is and which time span it
// covers. Pass 2 (EventMerger) decodes a chunk when the time-ordered merge first reaches one of its
// batches, so memory follows the live set and the batches in flight, not the trace length.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sites/module_index.h"
#include "sites/site_accumulator.h"
#include "tierscope/formats/container.h"
#include "trace.pb.h"

namespace tierscope::analyzer {

// One non-empty event batch: a thread's allocator events, or a thread's samples of one source.
struct BatchRef {
  uint32_t chunk;   // index into TraceIndex::chunks
  uint32_t index;   // position among the chunk's allocs (or samples)
  uint32_t stream;  // thread + allocator-or-sampler; a stream's batches are in time order
  bool sample;
  int events;  // how many decode before the end of the batch or its damage
  uint64_t first_time_ns, last_time_ns;
};

struct ChunkRef {
  uint64_t offset;       // of its container chunk header
  uint32_t first_batch;  // its batches are batches[first_batch, next chunk's first_batch)
};

struct TraceIndex {
  trace::Header header;
  std::vector<trace::Module> modules;       // every module seen, latest map last
  std::vector<AddressRange> thread_stacks;  // the recorded threads' stacks (repeats possible)
  std::unordered_map<uint32_t, trace::Stack> stacks;
  std::vector<ChunkRef> chunks;   // only chunks with events
  std::vector<BatchRef> batches;  // in file order
  // Stream ids count from 0 in order of first appearance in the file, empty batches included:
  // they break ties between equal times, so they must not depend on how the trace is read.
  uint32_t streams = 0;
  uint64_t event_count = 0;
  trace::Counters counters;
  bool has_footer = false;
  trace::Footer footer;
  std::optional<formats::FormatError> error;  // damage; everything before it is kept
  bool cancelled = false;
};

struct LoadOptions {
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(double)> progress;  // share of the file indexed, reported as 0..0.5
};

TraceIndex IndexTrace(const std::string& path, const LoadOptions& options = {});

// About `target` equal time bins from the trace's start (the header's, or its first event) to
// its end (the footer's, or its last event), which goes to *end_ns when given.
TimeBins BinsOf(const TraceIndex& trace, uint32_t target, uint64_t* end_ns = nullptr);

}  // namespace tierscope::analyzer
