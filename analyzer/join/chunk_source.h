// Pass 2's reading: a chunk of the trace read, decompressed, parsed and decoded into the events of
// its batches. The merge (EventMerger) needs chunks one at a time, in an order the index
// predicts: the order of their batches' first times. With read-ahead, a thread of its own decodes
// the chunks in that order, at most kReadAhead of them ahead of the merge, so that on a machine
// with a second core the merge never waits for zstd and protobuf. A chunk the merge asks for
// before the thread has it (the prediction can be wrong at ties) is decoded by the merge itself;
// the thread skips it. Either way a chunk's events are the same.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "join/join_event.h"
#include "join/trace_index.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::analyzer {

// A chunk's batches decoded: events[i] holds batch first_batch + i (empty for a batch that did not
// decode), or the error that kept the chunk from being read.
struct DecodedChunk {
  std::vector<std::vector<JoinEvent>> events;
  std::optional<formats::FormatError> error;
};

enum class ReadAhead { kNone, kThread };

class ChunkSource {
 public:
  // `order`: the chunks as the thread decodes them (every chunk at most once;
  // EventMerger::PredictChunkOrder).
  // `helper_busy`: while set, another thread of the analysis holds the second core
  // (AnalyzeOptions::helper_busy); on a machine of fewer than three cores the thread then waits
  // and the merge reads on its own, as three busy threads on two cores were slower than two.
  ChunkSource(const TraceIndex& index, const std::string& path, ReadAhead mode,
              std::vector<uint32_t> order, const std::atomic<bool>* helper_busy = nullptr);
  ~ChunkSource();
  ChunkSource(const ChunkSource&) = delete;
  ChunkSource& operator=(const ChunkSource&) = delete;

  // Chunk `c`'s events; each chunk is taken at most once.
  DecodedChunk Take(uint32_t c);
  // A batch's vector once its events are consumed: kept for its capacity.
  void GiveBack(std::vector<JoinEvent> events);

  // How many chunks the thread decoded that the merge then took (for tests and benchmarks).
  uint64_t taken_ahead() const { return taken_ahead_; }

  static constexpr size_t kReadAhead = 2;

 private:
  enum class State : uint8_t { kPending, kDecoding, kReady, kTaken };

  DecodedChunk Decode(formats::TraceReader& reader, trace::TraceChunk& chunk, uint32_t c);
  std::vector<JoinEvent> Spare();
  void RunAhead();

  const TraceIndex& index_;
  const std::string path_;
  const std::atomic<bool>* helper_busy_;  // null: never wait for it
  // The merge's own reader, opened when it first decodes a chunk itself.
  std::optional<formats::TraceReader> reader_;
  trace::TraceChunk chunk_;

  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<State> state_;                   // by chunk
  std::vector<DecodedChunk> ready_;            // by chunk, while kReady
  size_t ready_count_ = 0;                     // chunks kReady
  std::vector<std::vector<JoinEvent>> spare_;  // given back, kept for their capacity
  bool stop_ = false;
  uint64_t taken_ahead_ = 0;
  std::vector<uint32_t> order_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace tierscope::analyzer
