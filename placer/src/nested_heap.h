// Memory for the allocation calls of a signal handler that interrupted the allocator (a nested
// call, nested_entry.h), from the placer itself and not from jemalloc.
//
// Why not jemalloc: every jemalloc call, a lookup included, updates the thread's cache of its page
// map (rtree_ctx, in jemalloc's thread data) in more than one store. A handler's call that lands
// between them leaves the cache pairing one page range with another range's leaf, and a later call
// of the interrupted thread finds no extent for its own block (tests/faults, signals, looped under
// load: a crash in rallocx, jemalloc built with symbols showed a NULL extent for a live block).
// An arena of its own does not help: the cache is per thread, not per arena.
//
// What it is: power-of-two chunks carved from a reservation of its own (so a block is known by
// its address, as a tier's are) and kept on one free list per size; a 16-byte header before each
// block gives its chunk. Every operation holds one spin lock with every signal blocked: a handler
// can then never wait for its own thread, from any thread, and fork can take the lock. Two system
// calls per operation, on a path only signal handlers take.
#pragma once

#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tierscope::placer {

class NestedHeap {
 public:
  // At start-up: reserves address space (less than `bytes` when the kernel refuses that much).
  // False when nothing could be reserved (nested calls then stay with jemalloc).
  bool Reserve(uint64_t bytes);
  bool ready() const { return size_ != 0; }
  bool Holds(const void* p) const { return reinterpret_cast<uintptr_t>(p) - base_ < size_; }

  // NULL when the reservation is used up. `align`: a power of two (0: 16).
  void* Alloc(size_t size, size_t align, bool zero);
  void Free(void* p);
  size_t UsableSize(const void* p) const;
  // Blocks handed out, and requests refused (the reservation used up), since start.
  uint64_t allocs() const { return allocs_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

  // fork(): the forking thread holds the lock (signals blocked) from prepare to parent/child.
  void LockForFork();
  void UnlockAfterFork();
  // In a child whose fork did not take the lock (fork from a handler inside the placer): its
  // holder, if any, is not there.
  void ForgetLock() { locked_.store(false, std::memory_order_relaxed); }

 private:
  static constexpr int kClasses = 48;
  friend class NestedHeapLock;

  uintptr_t base_ = 0;
  uintptr_t size_ = 0;
  uintptr_t next_ = 0;  // bump pointer, under the lock
  void* free_[kClasses] = {};
  std::atomic<bool> locked_{false};
  std::atomic<uint64_t> allocs_{0}, refused_{0};
  sigset_t fork_mask_{};  // the forking thread's signal mask, under the lock
};

}  // namespace tierscope::placer
