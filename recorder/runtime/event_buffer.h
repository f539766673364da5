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
  bool queued;             // pushed full, not yet released by the writer
  RawEvent* events;
};

// A pool of at most `max_buffers` buffers, created on demand from raw pages. The bound on memory
// is max_buffers * buffer_bytes (TIERSCOPE_MEMORY_LIMIT), plus at most one buffer per thread
// beyond it when live threads hold every buffer (AcquireBeyondLimit).
class BufferPool {
 public:
  // Returns false when memory for the pool's table cannot be mapped.
  bool Init(size_t buffer_bytes, size_t memory_limit_bytes);

  // A free (empty) buffer, or null when every buffer is in use (the writer is behind).
  EventBuffer* Acquire(uint32_t tid) { return Acquire(tid, max_buffers_); }
  // For a thread without a buffer when none is queued for the writer: every buffer is some live
  // thread's current one, and waiting would wait for threads that may be waiting for this one
  // (1200 threads at a barrier hung). Null only past kMaxBeyondLimit such buffers.
  EventBuffer* AcquireBeyondLimit(uint32_t tid) {
    return Acquire(tid, max_buffers_ + kMaxBeyondLimit);
  }
  // Buffers pushed full and not yet released: what waiting for the writer can give back.
  uint32_t queued() const { return queued_.load(std::memory_order_acquire); }
  static constexpr size_t kMaxBeyondLimit = 1 << 16;  // the recorder's thread bound
  // From the writer: the buffer's events are consumed, it can be reused.
  void Release(EventBuffer* buffer);

  // Producers: hand a full (or final) buffer to the writer. Multi-producer, lock-free.
  void PushFull(EventBuffer* buffer);
  // Writer: every buffer pushed so far, oldest first.
  EventBuffer* TakeAllFull();

  size_t max_buffers() const { return max_buffers_; }
  size_t buffer_bytes() const { return buffer_bytes_; }

 private:
  EventBuffer* Acquire(uint32_t tid, size_t bound);
  std::atomic<uint32_t> queued_{0};
  // Free list head: index + 1 in the low 32 bits (0 = empty), ABA tag in the high 32 bits.
  std::atomic<uint64_t> free_head_{0};
  std::atomic<uint32_t> created_{0};
  std::atomic<EventBuffer*> full_head_{nullptr};
  EventBuffer** buffers_ = nullptr;  // by index, created lazily
  char* region_ = nullptr;           // room for the first max_buffers_ (null: mapped one by one)
  std::atomic<uint32_t>* free_next_ = nullptr;
  size_t max_buffers_ = 0;
  size_t buffer_bytes_ = 0;
};

}  // namespace tierscope::recorder
