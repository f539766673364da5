// Reads a whole trace, then replays it in time order. Batches of different threads arrive out of
// time order (a thread's buffer is flushed when full or at exit); each thread's own events are in
// order, so the trace is a merge of per-thread sorted streams: EventMerger k-way merges them with
// a heap. Each batch is decoded into its own exactly-sized vector (no regrowth copies).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tierscope/formats/container.h"
#include "trace.pb.h"

namespace tierscope::analyzer {

struct JoinEvent {
  uint64_t time_ns;
  uint64_t address;
  uint64_t size;      // allocation/unmap size; sample weight for samples
  uint32_t stack_id;  // allocations only
  uint16_t kind;      // trace::EventKind, or kSampleKind
  uint8_t access;     // trace::AccessKind for samples
  uint8_t source;     // trace::SamplerKind for samples
};
inline constexpr uint16_t kSampleKind = 0xffff;

struct TraceContents {
  trace::Header header;
  std::vector<trace::Module> modules;  // every module seen, latest map last
  std::unordered_map<uint32_t, trace::Stack> stacks;
  // Decoded batches; batches of one stream (thread + allocator or sampler) are in file order.
  std::vector<std::vector<JoinEvent>> batches;
  std::vector<uint32_t> stream_of_batch;
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
  std::function<void(double)> progress;
};

// Yields the events of `trace` in time order; at equal times allocator events come first (a block
// allocated and touched within one clock tick must receive the touch), then by stream.
class EventMerger {
 public:
  explicit EventMerger(const TraceContents& trace);
  const JoinEvent* Next();

 private:
  struct Stream {
    std::vector<uint32_t> batches;
    size_t batch = 0, index = 0;
  };
  struct Head {
    uint64_t time;
    bool sample;
    uint32_t stream;
    bool operator>(const Head& o) const {
      if (time != o.time) return time > o.time;
      if (sample != o.sample) return sample > o.sample;
      return stream > o.stream;
    }
  };
  void Push(uint32_t stream);

  const TraceContents& trace_;
  std::vector<Stream> streams_;
  std::vector<Head> heap_;
};

TraceContents LoadTrace(const std::string& path, const LoadOptions& options = {});

}  // namespace tierscope::analyzer
