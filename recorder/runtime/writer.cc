#include "writer.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "runtime_state.h"
#include "tierscope/common/futex_word.h"
#include "tierscope/formats/alloc_columns.h"

namespace tierscope::recorder {
namespace {

constexpr long kCycleNs = 5'000'000;  // how often the writer looks for full buffers
// How long Finish and Checkpoint wait for the writer: without a new chunk for this long (on a
// signal: at all), it is stuck.
constexpr uint64_t kPatienceNs = 10'000'000'000;
constexpr uint64_t kSignalPatienceNs = 2'000'000'000;
constexpr int kMaxBatchesPerChunk = 64;  // bounds a chunk to ~128k events (64 KiB buffers)
// Event times are kept to 64 ns: finer than the hooks' own cost and the clock's skew between
// cores, and it takes the time column from ~1 to ~0.4 byte per event (docs/benchmarks.md).
constexpr uint32_t kTimeUnitNs = 64;

using common::Bump;
using common::WaitOn;

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

std::string ThreadNameFromProc(uint32_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

}  // namespace

namespace {

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  return getcwd(cwd, sizeof cwd) != nullptr ? std::string(cwd) + "/" + path : path;
}

}  // namespace

Writer::Writer(RuntimeState* state, const std::string& path, trace::Header header)
    : state_(state),
      path_(Absolute(path)),
      out_(path, state->config.compression_level),
      header_(std::move(header)),
      builder_(nullptr, kTimeUnitNs) {
  pending_.reserve(kMaxBatchesPerChunk);
  // The program may close every descriptor (a daemon's start-up) or dup2 over ours: a chunk
  // written through that number would land in its own file (tests/faults, close_fds). Each
  // write checks first and reopens the trace by path.
  out_.PinToFile(path_);
}

void Writer::SayIfReopened() {
  if (said_reopened_ || out_.reopened() == 0) return;
  said_reopened_ = true;
  std::fprintf(stderr,
               "tierscope: recorder: the program closed or replaced the trace's file descriptor; "
               "reopened %s and went on\n",
               path_.c_str());
}

void Writer::AddPending(trace::TraceChunk* chunk) {
  // One batch per thread per chunk, not per buffer: the longer a batch, the more of its
  // addresses are back-references to its own earlier events. The sort is stable, so each
  // thread's buffers keep their order (and their events their time order).
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const EventBuffer* a, const EventBuffer* b) { return a->tid < b->tid; });
  trace::AllocBatch* batch = nullptr;
  uint32_t tid = 0;
  uint64_t* last_ns = nullptr;
  for (EventBuffer* b : pending_) {
    const uint32_t count = b->count.load(std::memory_order_acquire);
    const uint32_t from = b->flushed;  // after a checkpoint: what it wrote already
    if (count <= from) continue;
    b->flushed = count;
    if (batch == nullptr || b->tid != tid) {
      batch = chunk->add_allocs();
      batch->set_tid(b->tid);
      builder_.Reset(batch);
      tid = b->tid;
      last_ns = &last_ns_[tid];
    }
    for (uint32_t i = from; i < count; ++i) {
      const RawEvent& r = b->events[i];
      formats::AllocEvent e;
      e.time_ns = *last_ns = std::max(state_->clock.ToNs(r.time_ns), *last_ns);
      e.kind = static_cast<trace::EventKind>(r.kind);
      e.address = r.address;
      e.size = r.size;
      e.stack_id = r.stack_id;
      builder_.Add(e);
      if (formats::KindIsAllocation(e.kind)) {
        ++alloc_events_;
      } else {
        ++free_events_;
      }
    }
  }
  pending_.clear();
}

bool Writer::Start() {
  running_ = true;
  // The writer must not take the program's signals (like the sampler's drain thread): a
  // process-directed signal that every thread of the program blocks, to take it with sigwait,
  // would otherwise be delivered here and run its default action (tests/faults, sigwait).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const int rc = pthread_create(&thread_, nullptr, &Writer::ThreadMain, this);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc != 0) {
    running_ = false;
    return false;
  }
  return true;
}

void* Writer::ThreadMain(void* self) {
  MarkInternalThread();
  static_cast<Writer*>(self)->Loop();
  return nullptr;
}

void Writer::Loop() {
  try {
    for (;;) {
      // Read before looking: a wake between the look and the sleep ends the sleep at once.
      const uint32_t wake = wake_writer_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_acquire)) break;
      const uint64_t asked = checkpoints_asked_.load(std::memory_order_acquire);
      if (asked != checkpoints_done_.load(std::memory_order_relaxed)) {
        Cycle(CycleKind::kCheckpoint);
        checkpoints_done_.store(asked, std::memory_order_release);
        Bump(&writer_event_);
        continue;
      }
      WaitOn(&wake_writer_, wake, kCycleNs);
      if (stop_.load(std::memory_order_acquire)) break;  // the final cycle takes what is left
      Cycle(CycleKind::kRegular);
    }
    Cycle(CycleKind::kFinal);
    out_.Close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tierscope: recorder: %s; the trace stops here\n", e.what());
  }
  running_ = false;
  done_.store(true, std::memory_order_release);
  Bump(&writer_event_);
}

template <typename Done>
bool Writer::WaitFor(Done done, uint64_t patience_ns, bool strict) {
  uint64_t seen = progress_.load(std::memory_order_acquire);
  uint64_t since = MonotonicNs();
  for (;;) {
    const uint32_t event = writer_event_.load(std::memory_order_acquire);
    if (done()) return true;
    const uint64_t now_progress = progress_.load(std::memory_order_acquire);
    const uint64_t now = MonotonicNs();
    if (now_progress != seen && !strict) {
      seen = now_progress;
      since = now;
    }
    if (now - since >= patience_ns) return false;
    WaitOn(&writer_event_, event, 5'000'000);
  }
}

bool Writer::Checkpoint(const char* reason) {
  if (!running()) return false;
  std::snprintf(checkpoint_reason_, sizeof checkpoint_reason_, "%s", reason);
  const uint64_t ticket = checkpoints_asked_.fetch_add(1, std::memory_order_acq_rel) + 1;
  Bump(&wake_writer_);
  return WaitFor(
      [&] {
        return checkpoints_done_.load(std::memory_order_acquire) >= ticket ||
               done_.load(std::memory_order_acquire);
      },
      kPatienceNs, false);
}

void Writer::Finish(const char* reason, int exit_status, bool from_signal) {
  std::snprintf(end_reason_, sizeof end_reason_, "%s", reason);
  exit_status_ = exit_status;
  stop_.store(true, std::memory_order_release);
  Bump(&wake_writer_);
  // From a signal handler the crashed thread may hold locks the writer needs: give it 2 s. On an
  // exit path (which may also run in a crashed program, e.g. _exit from its own signal handler)
  // wait as long as chunks keep coming, and give up after 10 s without one. Stuck: what is on
  // disk stays (complete chunks).
  if (!WaitFor([&] { return done_.load(std::memory_order_acquire); },
               from_signal ? kSignalPatienceNs : kPatienceNs, from_signal)) {
    return;
  }
  // Only the C library's thread exit is left (it frees the thread's malloc cache, which can
  // wait for a lock too): joined when it ends soon, else left to the process's exit.
  timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += 1;
  pthread_clockjoin_np(thread_, nullptr, CLOCK_MONOTONIC, &deadline);
}

void Writer::Cycle(CycleKind kind) {
  const bool final = kind != CycleKind::kRegular;  // live buffers and a footer
  state_->clock.Recalibrate();
  EventBuffer* full = state_->pool.TakeAllFull();
  do {
    // One chunk object for the whole run: Clear() keeps its columns' capacity, so the writer does
    // not grow and give back megabytes of heap (and page faults) every cycle.
    trace::TraceChunk& chunk = chunk_;
    chunk.Clear();
    if (!header_written_) {
      *chunk.mutable_header() = header_;
      header_written_ = true;
    }
    {
      std::lock_guard lock(state_->side_mutex);
      for (auto& m : state_->pending_maps) *chunk.add_module_maps() = std::move(m);
      state_->pending_maps.clear();
      for (auto& s : state_->pending_samples) *chunk.add_samples() = std::move(s);
      state_->pending_samples.clear();
    }
    EventBuffer* taken = nullptr;  // this chunk's full buffers, back to the pool once written
    EventBuffer** tail = &taken;
    while (full != nullptr && static_cast<int>(pending_.size()) < kMaxBatchesPerChunk) {
      pending_.push_back(full);
      *tail = full;
      tail = &full->next_full;
      full = full->next_full;
    }
    *tail = nullptr;
    if (final && full == nullptr) {
      // Events still in the threads' current buffers (the program is exiting, or about to exec).
      for (ThreadState* t = state_->threads.load(); t != nullptr; t = t->next_all) {
        if (!t->dead && t->buffer != nullptr) pending_.push_back(t->buffer);
      }
    }
    AddPending(&chunk);
    while (taken != nullptr) {
      EventBuffer* next = taken->next_full;
      state_->pool.Release(taken);
      taken = next;
    }
    AddStacks(&chunk);  // after the batches: covers every id they use
    AddThreads(&chunk);
    AddCounters(&chunk);
    if (final && full == nullptr) {
      trace::Footer* f = chunk.mutable_footer();
      f->set_end_time_ns(NowNs());
      f->set_end_reason(kind == CycleKind::kFinal ? end_reason_ : checkpoint_reason_);
      f->set_exit_status(kind == CycleKind::kFinal ? exit_status_ : 0);
    }
    if (chunk.allocs_size() > 0 || chunk.stacks_size() > 0 || chunk.threads_size() > 0 ||
        chunk.module_maps_size() > 0 || chunk.samples_size() > 0 || chunk.has_footer() ||
        chunk.has_header()) {
      out_.Append(chunk);
      SayIfReopened();
    }
    progress_.fetch_add(1, std::memory_order_release);
  } while (full != nullptr);
}

void Writer::AddStacks(trace::TraceChunk* chunk) {
  const uint32_t max_id = state_->stacks.max_id();
  for (uint32_t id = stacks_written_ + 1; id <= max_id; ++id) {
    const uint64_t* frames;
    uint32_t depth;
    bool truncated;
    if (!state_->stacks.Get(id, &frames, &depth, &truncated)) break;
    trace::Stack* s = chunk->add_stacks();
    s->set_id(id);
    s->mutable_frames()->Add(frames, frames + depth);
    s->set_truncated(truncated);
    if (truncated) ++truncated_stacks_;
    stacks_written_ = id;
  }
}

void Writer::AddThreads(trace::TraceChunk* chunk) {
  const bool final = stop_.load();
  const uint64_t now = NowNs();
  for (ThreadState* t = state_->threads.load(); t != nullptr; t = t->next_all) {
    if (t->dead) continue;
    const uint64_t end = t->end_ns.load(std::memory_order_acquire);
    const int reported = t->reported.load();
    const int want = end != 0 ? 2 : 1;
    if (reported >= want && !(final && end == 0)) continue;
    trace::Thread* out = chunk->add_threads();
    out->set_tid(t->tid);
    out->set_name(t->name[0] != '\0' ? std::string(t->name) : ThreadNameFromProc(t->tid));
    out->set_start_ns(t->start_ns);
    // Threads still running at the end of the trace end with it.
    out->set_end_ns(end != 0 ? end : final ? now : 0);
    out->set_creator_tid(t->creator_tid);
    out->set_stack_lo(t->stack_lo);
    out->set_stack_hi(t->stack_hi);
    t->reported.store(want);
  }
}

void Writer::AddCounters(trace::TraceChunk* chunk) {
  trace::Counters* c = chunk->mutable_counters();
  {
    std::lock_guard lock(state_->side_mutex);
    *c = state_->sampler_counters;
  }
  uint64_t dropped = state_->dropped_without_thread.load(), unwind = 0, threads = 0;
  uint64_t libunwind_walks = 0, checks = 0, mismatches = 0;
  for (ThreadState* t = state_->threads.load(); t != nullptr; t = t->next_all) {
    if (t->dead) continue;
    dropped += t->dropped.load(std::memory_order_relaxed);
    unwind += t->unwind_failures.load(std::memory_order_relaxed);
    libunwind_walks += t->libunwind_walks.load(std::memory_order_relaxed);
    checks += t->unwind_checks.load(std::memory_order_relaxed);
    mismatches += t->unwind_mismatches.load(std::memory_order_relaxed);
    ++threads;
  }
  c->set_alloc_events(alloc_events_);
  c->set_free_events(free_events_);
  c->set_dropped_events(dropped);
  c->set_stacks(stacks_written_);
  c->set_truncated_stacks(truncated_stacks_);
  c->set_unwind_failures(unwind);
  c->set_libunwind_walks(libunwind_walks);
  c->set_unwind_checks(checks);
  c->set_unwind_mismatches(mismatches);
  c->set_threads(threads);
}

}  // namespace tierscope::recorder
