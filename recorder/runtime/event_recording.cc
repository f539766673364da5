// The per-event hot path the hooks call: sampling decision, stack capture, and the append to the
// thread's buffer. No malloc, no lock, no syscall per event.
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <time.h>

#include <cmath>
#include <cstring>

#include "runtime.h"
#include "runtime_state.h"
#include "writer.h"

namespace tierscope::recorder {
namespace {

constexpr uint32_t kMaxCapture = 256 + 8;  // max depth + our own frames

ThreadState* AttachCurrentThread() {
  ThreadState* t = NewThreadState(0);
  if (t != nullptr) OnThreadCreated(t);
  return t;
}

EventBuffer* AcquireBuffer(ThreadState* t) {
  RuntimeState& s = *g_state;
  EventBuffer* b = s.pool.Acquire(t->tid);
  if (b != nullptr || s.config.overflow == OverflowPolicy::kDrop) return b;
  // Policy "block": wait for the writer to return a buffer, as long as it runs and has some in
  // hand. With none queued, live threads hold them all (they may be waiting for this one, e.g.
  // at a barrier): this thread gets one beyond the limit rather than wait for ever.
  while (b == nullptr && s.writer != nullptr && s.writer->running() &&
         g_recording.load(std::memory_order_relaxed)) {
    if (s.pool.queued() == 0 && (b = s.pool.AcquireBeyondLimit(t->tid)) != nullptr) break;
    timespec ts{0, 200'000};
    nanosleep(&ts, nullptr);
    b = s.pool.Acquire(t->tid);
  }
  return b;
}

void Append(ThreadState* t, const RawEvent& e) {
  EventBuffer* b = t->buffer;
  if (b == nullptr) {
    b = t->buffer = AcquireBuffer(t);
    if (b == nullptr) {
      t->dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  const uint32_t n = b->count.load(std::memory_order_relaxed);
  b->events[n] = e;
  b->count.store(n + 1, std::memory_order_release);
  if (n + 1 == b->capacity) {
    g_state->pool.PushFull(b);
    t->buffer = AcquireBuffer(t);
  }
}

inline ThreadState* CurrentState() {
  ThreadState* t = t_state;
  if (__builtin_expect(t == nullptr, 0)) t = AttachCurrentThread();
  return t;
}

// Innermost frame first: two different stacks nearly always differ there already.
inline bool SameFrames(const uint64_t* a, const uint64_t* b, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Always inlined into RecordAllocSlow: every frame of ours below the program's costs libunwind one
// more step (~75 instructions under callgrind), so this one is not a frame of its own.
__attribute__((always_inline)) inline uint32_t CaptureStack(ThreadState* t) {
  RuntimeState& s = *g_state;
  void* raw[kMaxCapture];
  const uint32_t depth = s.config.max_stack_depth;
  int n = unw_backtrace(raw, static_cast<int>(depth + 8));
  int skip = 0;
  while (skip < n && reinterpret_cast<uint64_t>(raw[skip]) >= s.own_text_start &&
         reinterpret_cast<uint64_t>(raw[skip]) < s.own_text_end) {
    ++skip;
  }
  const int kept = n - skip;
  if (kept <= 0) {
    t->unwind_failures.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  const bool truncated = static_cast<uint32_t>(kept) > depth;
  const uint32_t used = truncated ? depth : static_cast<uint32_t>(kept);
  const auto* frames = reinterpret_cast<const uint64_t*>(raw + skip);
  const uint32_t key = used | (truncated ? 1u << 31 : 0);
  if (key == t->last_stack_key && SameFrames(frames, t->last_stack, used)) return t->last_stack_id;
  const uint32_t id = s.stacks.Intern(frames, used, truncated);
  if (id != 0 && used <= ThreadState::kLastStackFrames) {
    std::memcpy(t->last_stack, frames, used * sizeof(uint64_t));
    t->last_stack_key = key;
    t->last_stack_id = id;
  }
  return id;
}

}  // namespace

int64_t NextSampleDistance(ThreadState* t, uint64_t mean) {
  t->rng = t->rng * 6364136223846793005ULL + 1442695040888963407ULL;
  const double u = (static_cast<double>(t->rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return static_cast<int64_t>(-std::log(u) * static_cast<double>(mean)) + 1;
}

void RecordAllocSlow(trace::EventKind kind, const void* address, size_t size) {
  if (!g_recording.load(std::memory_order_relaxed) || address == nullptr) return;
  RuntimeState& s = *g_state;
  ThreadState* t = CurrentState();
  if (t == nullptr) {
    s.dropped_without_thread.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (size < s.config.min_size) return;
  if (s.config.alloc_sample_bytes > 0) {  // RecordAlloc counted this one down to <= 0
    while (t_sample_countdown <= 0) {
      t_sample_countdown += NextSampleDistance(t, s.config.alloc_sample_bytes);
    }
  }
  if (s.config.alloc_sample_bytes > 0 || s.config.min_size > 0) {
    s.sampled.Insert(reinterpret_cast<uint64_t>(address));
  }
  RawEvent e;
  e.time_ns = s.clock.Ticks();
  e.address = reinterpret_cast<uint64_t>(address);
  e.size = size;
  e.stack_id = CaptureStack(t);
  e.kind = kind;
  Append(t, e);
}

namespace {

// In filtering modes only the blocks we recorded get their release recorded. munmap may cover
// part of a mapping, so it is always kept.
bool Filtering(const RuntimeState& s) {
  return s.config.alloc_sample_bytes > 0 || s.config.min_size > 0;
}

// Out of line: in filtering modes RecordRelease is the filter's check and nothing more.
__attribute__((noinline)) void AppendRelease(trace::EventKind kind, const void* address,
                                             size_t size, uint64_t ticks) {
  ThreadState* t = CurrentState();
  if (t == nullptr) {
    g_state->dropped_without_thread.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  RawEvent e;
  e.time_ns = ticks;
  e.address = reinterpret_cast<uint64_t>(address);
  e.size = size;
  e.stack_id = 0;
  e.kind = kind;
  Append(t, e);
}

}  // namespace

void RecordRelease(trace::EventKind kind, const void* address, size_t size) {
  if (!g_recording.load(std::memory_order_relaxed) || address == nullptr) return;
  RuntimeState& s = *g_state;
  if (Filtering(s) && kind != trace::MUNMAP &&
      !s.sampled.Erase(reinterpret_cast<uint64_t>(address))) {
    return;
  }
  AppendRelease(kind, address, size, s.clock.Ticks());
}

PendingRelease BeginRelease(trace::EventKind kind, const void* address) {
  PendingRelease pending;
  if (!g_recording.load(std::memory_order_relaxed) || address == nullptr) return pending;
  RuntimeState& s = *g_state;
  if (Filtering(s) && kind != trace::MUNMAP) {
    if (!s.sampled.Erase(reinterpret_cast<uint64_t>(address))) return pending;
    pending.erased = true;
  }
  pending.record = true;
  pending.ticks = s.clock.Ticks();
  return pending;
}

void EndRelease(const PendingRelease& pending, trace::EventKind kind, const void* address,
                size_t size, bool released) {
  if (!pending.record || !g_recording.load(std::memory_order_relaxed)) return;
  if (!released) {
    if (pending.erased) g_state->sampled.Insert(reinterpret_cast<uint64_t>(address));
    return;
  }
  AppendRelease(kind, address, size, pending.ticks);
}

}  // namespace tierscope::recorder
