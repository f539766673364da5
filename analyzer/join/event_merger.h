// Pass 2 of the streaming join: yields a trace's events in time order. Batches of different
// threads arrive out of time order (a thread's buffer is flushed when full or at exit); each
// stream's own events are in order, so the trace is a k-way merge of per-stream sorted runs, done
// with a heap of stream heads. A stream whose next batch is not decoded yet enters the heap with
// the batch's first time from the index; its chunk is read and decoded only when that head comes
// out on top, and each batch's events are dropped once consumed. Memory is bounded by the batches
// whose time spans overlap the merge point (plus the other batches of the chunks they came in).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "join/chunk_source.h"
#include "join/join_event.h"
#include "join/trace_index.h"

namespace tierscope::analyzer {

struct MergeStats {
  uint64_t chunk_reads = 0;          // chunks read and decoded in pass 2
  uint64_t chunks_read_ahead = 0;    // ... of them by the read-ahead thread (ChunkSource)
  uint64_t peak_decoded_events = 0;  // most events held decoded at one moment
};

// At equal times (the trace keeps time to 64 ns) releases come first (an address can be handed
// out again only after it was given back, and the recorder stamps a release before the block is
// given back), then allocations (a block allocated and touched within one tick must receive the
// touch), then samples; then by stream.
class EventMerger {
 public:
  // `helper_busy`: see ChunkSource.
  EventMerger(const TraceIndex& index, const std::string& path,
              ReadAhead read_ahead = ReadAhead::kThread,
              const std::atomic<bool>* helper_busy = nullptr);
  // The order in which the merge of `index` first reads its chunks: by the head each one's
  // earliest batch enters the merge with (FirstHead). ChunkSource reads ahead in this order.
  static std::vector<uint32_t> PredictChunkOrder(const TraceIndex& index);

  // The next event, valid until the next call; null at the end.
  const JoinEvent* Next();

  // A chunk that pass 1 read but pass 2 could not (the file changed in between): its batches are
  // skipped.
  const std::optional<formats::FormatError>& error() const { return error_; }
  const MergeStats& stats() const { return stats_; }
  // The stream (thread and source) of the last event Next() returned: a realloc's release and
  // its new block follow each other in their thread's stream, not in the merged order.
  uint32_t stream() const { return stream_; }

 private:
  struct Stream {
    std::vector<uint32_t> batches;  // ids into index_.batches
    size_t batch = 0;
    bool sample = false;
    // The rest of the current batch once it is decoded; null before.
    const JoinEvent* next = nullptr;
    const JoinEvent* end = nullptr;
  };
  // Time, then release < allocation < sample, then stream, packed so that one comparison orders
  // heads. A batch not decoded yet enters with its first time and the lowest rank its stream can
  // have: a lower bound, corrected once it is decoded.
  enum Rank : uint64_t { kRelease = 0, kAllocation = 1, kSample = 2 };
  struct Head {
    unsigned __int128 key;
    static Head Of(uint64_t time, Rank rank, uint32_t stream) {
      return {(static_cast<unsigned __int128>(time) << 64) | (rank << 32) | stream};
    }
    uint32_t stream() const { return static_cast<uint32_t>(key); }
    bool operator>(const Head& o) const { return key > o.key; }
  };
  // The head a batch enters the merge with before it is decoded.
  static Head FirstHead(const BatchRef& batch) {
    return Head::Of(batch.first_time_ns, batch.sample ? kSample : kRelease, batch.stream);
  }
  // The head of `stream`'s next event; false when the stream is done.
  bool HeadOf(uint32_t stream, Head* head) const;
  void Push(const Head& head);
  void ReadChunk(uint32_t chunk);
  void Release(uint32_t batch);

  const TraceIndex& index_;
  ChunkSource source_;
  std::vector<Stream> streams_;
  std::vector<Head> heap_;
  // The stream that gave the last event stays out of the heap while its next event still comes
  // first: runs of one stream (the common case) then cost one comparison per event, not a
  // push and a pop.
  Head current_{};
  bool has_current_ = false;
  std::vector<bool> chunk_read_;
  std::vector<std::vector<JoinEvent>> decoded_;  // by batch id; empty until read, after release
  int64_t done_batch_ = -1;  // consumed, released on the next call (its last event was returned)
  uint64_t held_ = 0;
  uint32_t stream_ = 0;
  std::optional<formats::FormatError> error_;
  MergeStats stats_;
};

}  // namespace tierscope::analyzer
