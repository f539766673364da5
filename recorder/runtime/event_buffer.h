// Fixed-size raw event records, per-thread buffers of them, and the bounded pool that hands full
// buffers to the writer thread. Lock-free: a thread touches shared state once per buffer
// (thousands of events), never per event.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tierscope::recorder {

// One allocation event as the hooks record it; the writer turns them into AllocBatch columns.
struct RawEvent {
  uint64_t time_ns;
  uint64_t address;
  uint64_t size;
  uint32_t stack_id;
  uint32_t kind;  // trace::EventKind
};

struct EventBuffer {
  uint32_t index;     // in the pool
  uint32_t tid;       // thread whose events these are
  uint32_t capacity;  // events
  // Published with release after each event, so the writer can read a live buffer at exit.
  std::atomic<uint32_t> count;
  // Writer only: events already written while the buffer was still its thread's (at a
  // checkpoint before an exec); it goes on from there. 0 when the buffer is acquired.
  uint32_t flushed;
  EventBuffer* next_full;  // link in the full queue
  RawEvent* events;
};

// A pool of at most `max_buffers` buffers, created on demand from raw pages. The bound on memory
// is max_buffers * buffer_bytes (TIERSCOPE_MEMORY_LIMIT).
class BufferPool {
 public:
  // Returns false when memory for the pool's table cannot be mapped.
  bool Init(size_t buffer_bytes, size_t memory_limit_bytes);

  // A free (empty) buffer, or null when every buffer is in use (the writer is behind).
  EventBuffer* Acquire(uint32_t tid);
  // From the writer: the buffer's events are consumed, it can be reused.
  void Release(EventBuffer* buffer);

  // Producers: hand a full (or final) buffer to the writer. Multi-producer, lock-free.
  void PushFull(EventBuffer* buffer);
  // Writer: every buffer pushed so far, oldest first.
  EventBuffer* TakeAllFull();

  size_t max_buffers() const { return max_buffers_; }
  size_t buffer_bytes() const { return buffer_bytes_; }

 private:
  // Free list head: index + 1 in the low 32 bits (0 = empty), ABA tag in the high 32 bits.
  std::atomic<uint64_t> free_head_{0};
  std::atomic<uint32_t> created_{0};
  std::atomic<EventBuffer*> full_head_{nullptr};
  EventBuffer** buffers_ = nullptr;  // by index, created lazily
  std::atomic<uint32_t>* free_next_ = nullptr;
  size_t max_buffers_ = 0;
  size_t buffer_bytes_ = 0;
};

}  // namespace tierscope::recorder
