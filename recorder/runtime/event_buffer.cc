#include "event_buffer.h"

#include <new>

#include "kernel_pages.h"

namespace tierscope::recorder {

bool BufferPool::Init(size_t buffer_bytes, size_t memory_limit_bytes) {
  buffer_bytes_ = buffer_bytes;
  max_buffers_ = memory_limit_bytes / buffer_bytes;
  if (max_buffers_ < 2) max_buffers_ = 2;
  // Room for the buffers beyond the limit too (untouched pages until then).
  const size_t slots = max_buffers_ + kMaxBeyondLimit;
  const size_t table = slots * (sizeof(EventBuffer*) + sizeof(std::atomic<uint32_t>));
  void* mem = RawMap(table);
  if (mem == nullptr) return false;
  buffers_ = static_cast<EventBuffer**>(mem);
  free_next_ = reinterpret_cast<std::atomic<uint32_t>*>(buffers_ + slots);
  // The buffers within the limit, carved from one reservation in huge pages: each 64 KiB buffer
  // mapped on its own faulted in 16 pages at its first use, and a busy program makes hundreds
  // before the writer recycles them (6000 of the 12600 page faults of recorded stress). Without
  // the reservation (ulimit -v), each buffer is mapped as it is made.
  region_ = static_cast<char*>(RawMapHugePages(max_buffers_ * buffer_bytes_));
  return true;
}

EventBuffer* BufferPool::Acquire(uint32_t tid, size_t bound) {
  EventBuffer* b = nullptr;
  uint64_t head = free_head_.load(std::memory_order_acquire);
  while ((head & 0xffffffffu) != 0) {
    const uint32_t index = static_cast<uint32_t>(head) - 1;
    const uint32_t next = free_next_[index].load(std::memory_order_relaxed);
    const uint64_t tag = (head >> 32) + 1;
    if (free_head_.compare_exchange_weak(head, (tag << 32) | next, std::memory_order_acq_rel)) {
      b = buffers_[index];
      break;
    }
  }
  if (b == nullptr) {
    // No free buffer: create one if the bound allows.
    uint32_t n = created_.load(std::memory_order_relaxed);
    while (true) {
      if (n >= bound) return nullptr;
      if (created_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) break;
    }
    void* mem = region_ != nullptr && n < max_buffers_ ? region_ + size_t{n} * buffer_bytes_
                                                       : RawMap(buffer_bytes_);
    if (mem == nullptr) return nullptr;  // the slot stays unused; the bound only shrinks
    b = new (mem) EventBuffer;
    b->index = n;
    b->capacity = static_cast<uint32_t>((buffer_bytes_ - sizeof(EventBuffer)) / sizeof(RawEvent));
    b->events = reinterpret_cast<RawEvent*>(static_cast<char*>(mem) + sizeof(EventBuffer));
    buffers_[n] = b;
  }
  b->tid = tid;
  b->next_full = nullptr;
  b->queued = false;
  b->flushed = 0;
  b->count.store(0, std::memory_order_relaxed);
  return b;
}

void BufferPool::Release(EventBuffer* b) {
  if (b->queued) {
    b->queued = false;
    queued_.fetch_sub(1, std::memory_order_acq_rel);
  }
  uint64_t head = free_head_.load(std::memory_order_relaxed);
  while (true) {
    free_next_[b->index].store(static_cast<uint32_t>(head), std::memory_order_relaxed);
    const uint64_t tag = (head >> 32) + 1;
    if (free_head_.compare_exchange_weak(head, (tag << 32) | (b->index + 1),
                                         std::memory_order_acq_rel)) {
      return;
    }
  }
}

void BufferPool::PushFull(EventBuffer* b) {
  b->queued = true;
  queued_.fetch_add(1, std::memory_order_acq_rel);
  EventBuffer* head = full_head_.load(std::memory_order_relaxed);
  do {
    b->next_full = head;
  } while (!full_head_.compare_exchange_weak(head, b, std::memory_order_release,
                                             std::memory_order_relaxed));
}

EventBuffer* BufferPool::TakeAllFull() {
  EventBuffer* list = full_head_.exchange(nullptr, std::memory_order_acquire);
  EventBuffer* reversed = nullptr;  // pushes came newest first
  while (list != nullptr) {
    EventBuffer* next = list->next_full;
    list->next_full = reversed;
    reversed = list;
    list = next;
  }
  return reversed;
}

}  // namespace tierscope::recorder
