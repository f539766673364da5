// The recorder's process-wide state and the hot path the hooks call. Everything here is safe to
// call from inside the program's allocator calls: no malloc, no lock, no syscall per event.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "address_set.h"
#include "trace.pb.h"

namespace tierscope::recorder {

struct EventBuffer;

// Per program thread; lives in the recorder's own pages, never freed (a dead thread's last
// events are still written at exit).
struct ThreadState {
  uint32_t tid = 0;
  uint32_t creator_tid = 0;
  EventBuffer* buffer = nullptr;
  uint64_t rng = 0;
  uint64_t start_ns = 0;
  uint64_t stack_lo = 0, stack_hi = 0;  // threads the program created; 0: unknown
  std::atomic<uint64_t> end_ns{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> unwind_failures{0};
  std::atomic<uint64_t> libunwind_walks{0};
  std::atomic<uint64_t> unwind_checks{0};
  std::atomic<uint64_t> unwind_mismatches{0};
  std::atomic<int> reported{0};  // writer: 0 new, 1 start written, 2 end written
  int exit_rounds = 0;           // pthread key destructor rounds seen
  bool dead = false;             // a thread of the parent, after fork in the child
  char name[16] = {};
  ThreadState* next_all = nullptr;
  // The stack this thread interned last. Allocations in a loop come from the same place over
  // and over; comparing a few frames here is cheaper than hashing them and probing the shared
  // table (docs/benchmarks.md, Recorder). Only stacks of up to kLastStackFrames are kept.
  static constexpr uint32_t kLastStackFrames = 32;
  uint32_t last_stack_key = 0;  // depth | truncated << 31; 0: nothing kept
  uint32_t last_stack_id = 0;
  uint64_t last_stack[kLastStackFrames] = {};
};

// Reentrancy guard / internal-thread flag: > 0 means "the recorder is running here, do not
// record". Initial-exec TLS: one load, no call to __tls_get_addr, no allocation.
extern __thread int t_guard __attribute__((tls_model("initial-exec")));

// Set once the runtime can record; cleared at shutdown and in untraced children.
extern std::atomic<bool> g_recording;

// Allocation sampling (--alloc-sample-bytes): the bytes this thread may still allocate before
// its next recorded allocation, counted down by RecordAlloc inline, so that the allocations it
// skips (nearly all of them) cost no call and no thread-state lookup. Whether sampling is on, and
// --min-size, are set once before recording starts.
extern __thread int64_t t_sample_countdown __attribute__((tls_model("initial-exec")));
extern bool g_alloc_sampling;
extern uint64_t g_sampling_min_size;

// The hot path: called by the hooks with t_guard already raised.
void RecordAllocSlow(trace::EventKind kind, const void* address, size_t size);
inline void RecordAlloc(trace::EventKind kind, const void* address, size_t size) {
  if (g_alloc_sampling) {
    if (size < g_sampling_min_size) return;
    t_sample_countdown -= static_cast<int64_t>(size);
    if (__builtin_expect(t_sample_countdown > 0, 1)) return;
  }
  RecordAllocSlow(kind, address, size);
}
// Filtering modes (--alloc-sample-bytes, --min-size): the set of the blocks recorded, whose
// filter RecordRelease asks inline in the hooks, so that the release of a block never recorded
// (nearly all of them) costs no call. Null otherwise: every release is recorded. munmap may cover
// part of a mapping, so it is always recorded.
extern const AddressSet* g_release_filter;
void RecordReleaseSlow(trace::EventKind kind, const void* address, size_t size);
inline void RecordRelease(trace::EventKind kind, const void* address, size_t size) {
  if (const AddressSet* filter = g_release_filter;
      filter != nullptr && kind != trace::MUNMAP &&
      !filter->MaybeHeld(reinterpret_cast<uint64_t>(address))) {
    return;
  }
  RecordReleaseSlow(kind, address, size);
}

// realloc and mremap give the old block back inside the real call: another thread can be handed
// its address and record that allocation before the real call returns. The release is therefore
// decided and stamped before the real call (BeginRelease) and recorded after it with that stamp
// (EndRelease), only when the call did give the block back.
struct PendingRelease {
  uint64_t ticks = 0;
  bool record = false;  // recording, and (when filtering) the block was one of ours
  bool erased = false;  // taken out of the filter's set: put back if the call fails
};
PendingRelease BeginRelease(trace::EventKind kind, const void* address);
void EndRelease(const PendingRelease& pending, trace::EventKind kind, const void* address,
                size_t size, bool released);

// Life cycle, called by the hooks.
void OnThreadCreated(ThreadState* state);  // in the new thread, before its start routine
ThreadState* NewThreadState(uint32_t creator_tid);
void OnModulesChanged();  // after dlopen/dlclose
// Flushes and closes the trace once. Safe from any thread; from a signal handler pass
// from_signal so the wait for the writer is bounded.
void Finish(const char* reason, int exit_status, bool from_signal);
// The process image is about to be replaced: everything so far goes to disk, with an "exec"
// footer; recording goes on (for when the exec fails).
void BeforeExec();
bool FollowExec();
bool IsRootProcess();  // false in a vfork child, which shares our memory
void SetExitStatus(int status);

uint32_t CurrentTid();

// The calling thread is the recorder's own (the writer, the samplers' drain threads): its
// allocations are not recorded and it is not reported as a program thread.
void MarkInternalThread();

}  // namespace tierscope::recorder
