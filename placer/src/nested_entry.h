// An entry point (malloc, free, operator new/delete, ...) entered again by the same thread before
// it returned: a signal handler that allocates interrupted the placer, possibly inside jemalloc.
//
// Why it matters: jemalloc calls our extent hooks (tier_arenas.cc) holding its arena's locks and
// at a raised reentrancy level, where every call bypasses the thread cache. A handler's free that
// lands there takes the locks of the block's arena, which its own interrupted thread holds: the
// program waited for itself (tests/faults, signals; glibc and stock jemalloc serve the same
// handler from the thread cache without a lock). Nor may a nested call touch the thread cache the
// interrupted call may be flushing (that crashed in jemalloc's memcpy). So a nested free is
// deferred: the block goes on a per-thread list (linked through its own first word) and is freed
// when the outer call returns; a nested allocation comes from the placer's nested heap
// (nested_heap.h), not from jemalloc, whose per-thread state the interrupted call may be updating.
#pragma once

#include "allocation_path.h"

namespace tierscope::placer {

extern __thread int t_entry_depth __attribute__((tls_model("initial-exec")));
extern __thread void* t_deferred_frees __attribute__((tls_model("initial-exec")));

// The blocks on this thread's list, freed now (the outermost entry, still counted as entered).
void FreeDeferred();

// One per entry point call. Signal handlers nest: each one's increments and decrements balance
// before it returns, so plain thread-local counts are enough.
class EntryScope {
 public:
  TS_ALWAYS_INLINE EntryScope() : nested_(t_entry_depth++ != 0) {}
  TS_ALWAYS_INLINE ~EntryScope() {
    if (__builtin_expect(t_deferred_frees != nullptr, 0) && !nested_) FreeDeferred();
    --t_entry_depth;
  }
  bool nested() const { return nested_; }
  EntryScope(const EntryScope&) = delete;
  EntryScope& operator=(const EntryScope&) = delete;

  // True (and `p` kept for later) when this call is nested.
  TS_ALWAYS_INLINE bool DeferFree(void* p) {
    if (__builtin_expect(!nested_, 1)) return false;
    *static_cast<void**>(p) = t_deferred_frees;
    t_deferred_frees = p;
    return true;
  }

 private:
  const bool nested_;
};

// Around program code an entry point calls (operator new's new_handler, which may free a
// reserve to make room): that code is not inside the placer, its frees must happen now.
class ProgramCode {
 public:
  TS_ALWAYS_INLINE ProgramCode() { --t_entry_depth; }
  TS_ALWAYS_INLINE ~ProgramCode() { ++t_entry_depth; }
  ProgramCode(const ProgramCode&) = delete;
  ProgramCode& operator=(const ProgramCode&) = delete;
};

// Allocations of a nested call (mallocx flags: alignment, zero).
void* NestedAlloc(size_t size, int flags);
void* NestedRealloc(EntryScope& entry, void* old, size_t size);
// At start-up, before any signal handler of the program can run: the nested calls' heap.
void CreateNestedHeap();

}  // namespace tierscope::placer
