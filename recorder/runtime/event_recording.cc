// The per-event hot path the hooks call: sampling decision, stack capture, and the append to the
// thread's buffer. No malloc, no lock, no syscall per event.
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime.h"
#include "runtime_state.h"
#include "writer.h"

namespace tierscope::recorder {
namespace {

constexpr uint32_t kMaxCapture = 256 + 8;  // max depth + our own frames

// This thread's recent unwind rules (common/call_frame_walk.h): 5 KiB of initial-exec TLS.
__thread common::RecentStepRules t_recent_rules __attribute__((tls_model("initial-exec")));

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

// Up to `max` frames of the program above `start` (ours left out) by the unwind tables' rules,
// or -1: libunwind's to walk.
inline int WalkByRules(ThreadState* t, const common::WalkStart& start, uint64_t* frames, int max) {
  RuntimeState& s = *g_state;
  if (t->stack_hi == 0) return -1;
  t_recent_rules.Follow(s.rules.generation());
  return common::WalkCallFrames(
      start, t->stack_lo, t->stack_hi, s.own_text_start, s.own_text_end, max, frames,
      [&s](uint64_t pc, int step) { return common::RuleFor(pc, step, t_recent_rules, s.rules); });
}

// Up to `max` frames of the program by unw_backtrace (ours left out): a pointer into `raw`.
inline int WalkByLibunwind(void** raw, int max, const uint64_t** frames) {
  RuntimeState& s = *g_state;
  const int n = unw_backtrace(raw, max + 8);
  int skip = 0;
  while (skip < n && reinterpret_cast<uint64_t>(raw[skip]) >= s.own_text_start &&
         reinterpret_cast<uint64_t>(raw[skip]) < s.own_text_end) {
    ++skip;
  }
  *frames = reinterpret_cast<const uint64_t*>(raw + skip);
  return std::min(n - skip, max);
}

// The stack of the allocation whose hook called RecordAllocSlow (`start`: RecordAllocSlow's own
// frame), interned. Inlined into RecordAllocSlow: under libunwind every frame of ours below the
// program's costs one more step (~75 instructions under callgrind).
__attribute__((always_inline)) inline uint32_t CaptureStack(ThreadState* t,
                                                            const common::WalkStart& start) {
  RuntimeState& s = *g_state;
  const uint32_t depth = s.config.max_stack_depth;
  const int max = static_cast<int>(depth) + 1;  // one more: was the stack cut?
  uint64_t walked[kMaxCapture];
  const uint64_t* frames = walked;
  int kept = -1;
  const UnwindMode mode = s.config.unwind;
  if (mode != UnwindMode::kLibunwind) {
    kept = WalkByRules(t, start, walked, max);
    if (kept < 0) t->libunwind_walks.fetch_add(1, std::memory_order_relaxed);
  }
  void* raw[kMaxCapture];
  if (kept < 0 || mode != UnwindMode::kAuto) {
    const int walked_n = kept;
    kept = WalkByLibunwind(raw, max, &frames);
    if (mode == UnwindMode::kCheck && walked_n >= 0) {
      t->unwind_checks.fetch_add(1, std::memory_order_relaxed);
      if (walked_n != kept || !std::equal(walked, walked + kept, frames)) {
        t->unwind_mismatches.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  if (kept <= 0) {
    t->unwind_failures.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  const bool truncated = static_cast<uint32_t>(kept) > depth;
  const uint32_t used = truncated ? depth : static_cast<uint32_t>(kept);
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

// Not inlined into the hooks: its own frame is where the stack walk starts.
__attribute__((noinline)) void RecordAllocSlow(trace::EventKind kind, const void* address,
                                               size_t size) {
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
  if (Filtering(s.config)) s.sampled.Insert(reinterpret_cast<uint64_t>(address));
  RawEvent e;
  e.time_ns = s.clock.Ticks();
  e.address = reinterpret_cast<uint64_t>(address);
  e.size = size;
  e.stack_id = CaptureStack(
      t, common::StartAtFrame(__builtin_return_address(0), __builtin_frame_address(0)));
  e.kind = kind;
  Append(t, e);
}

namespace {

// Out of line: in filtering modes RecordReleaseSlow is the table's check and nothing more.
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

void RecordReleaseSlow(trace::EventKind kind, const void* address, size_t size) {
  if (!g_recording.load(std::memory_order_relaxed) || address == nullptr) return;
  RuntimeState& s = *g_state;
  // In filtering modes only the blocks we recorded get their release recorded. munmap may cover
  // part of a mapping, so it is always kept.
  if (Filtering(s.config) && kind != trace::MUNMAP &&
      !s.sampled.Erase(reinterpret_cast<uint64_t>(address))) {
    return;
  }
  AppendRelease(kind, address, size, s.clock.Ticks());
}

PendingRelease BeginRelease(trace::EventKind kind, const void* address) {
  PendingRelease pending;
  if (!g_recording.load(std::memory_order_relaxed) || address == nullptr) return pending;
  RuntimeState& s = *g_state;
  if (Filtering(s.config) && kind != trace::MUNMAP) {
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
