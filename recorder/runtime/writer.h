// The writer thread: turns full event buffers into TraceChunks (stacks before the batches that
// use them, threads, module maps, samples, counters) and appends them through TraceWriter.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/trace_io.h"
#include "trace.pb.h"

namespace tierscope::recorder {

struct EventBuffer;
struct RuntimeState;

class Writer {
 public:
  // Opens the trace (throws FormatException naming the path) and keeps the header for chunk 1.
  Writer(RuntimeState* state, const std::string& path, trace::Header header);
  bool Start();  // the thread; false when it cannot be created
  // Asks for the last chunk (with the footer) and waits for it, never without a bound: from a
  // signal at most 2 s; otherwise as long as the writer makes progress (10 s without a chunk
  // written: it is stuck, e.g. on a lock of a thread that crashed). Allocates nothing.
  void Finish(const char* reason, int exit_status, bool from_signal);
  // Before an exec: writes every event so far, the threads' current buffers included, and a
  // footer with `reason`, then goes on as before. An exec that succeeds ends the trace there; one
  // that fails leaves the program running, and the trace goes on after that footer (readers take
  // the last footer). Waits as Finish does on an exit path; false when it gave up.
  bool Checkpoint(const char* reason);
  bool running() const { return running_.load(); }

 private:
  static void* ThreadMain(void* self);
  void Loop();
  enum class CycleKind { kRegular, kCheckpoint, kFinal };
  // One chunk from whatever is ready; final and checkpoint also drain the live buffers of every
  // thread and end with a footer.
  void Cycle(CycleKind kind);
  // Waits until done() or no progress for `patience_ns` (any progress restarts the clock unless
  // strict); false when it gave up.
  template <typename Done>
  bool WaitFor(Done done, uint64_t patience_ns, bool strict);
  // The buffers in pending_, as one AllocBatch per thread.
  void AddPending(trace::TraceChunk* chunk);
  void AddThreads(trace::TraceChunk* chunk);
  void AddStacks(trace::TraceChunk* chunk);
  void AddCounters(trace::TraceChunk* chunk);
  // Says once that the program took the trace's descriptor over (out_ reopened the file).
  void SayIfReopened();

  RuntimeState* state_;
  std::string path_;  // absolute: the program may change its directory
  formats::TraceWriter out_;
  bool said_reopened_ = false;
  trace::Header header_;
  trace::TraceChunk chunk_;
  bool header_written_ = false;
  pthread_t thread_{};
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<uint64_t> progress_{0};  // chunks looked at: Finish waits while it moves
  // Futex words (raw futex calls: safe in a signal handler): the writer sleeps its cycle on
  // wake_writer_, which Finish and Checkpoint bump to wake it at once; they sleep on
  // writer_event_, which the writer bumps after each checkpoint and at its end. A short
  // program's exit waited up to two 5 ms sleeps for the last chunk (10 ms per process of a
  // script).
  std::atomic<uint32_t> wake_writer_{0}, writer_event_{0};
  char end_reason_[64] = {};
  std::atomic<uint64_t> checkpoints_asked_{0}, checkpoints_done_{0};
  char checkpoint_reason_[64] = {};
  int exit_status_ = 0;
  formats::AllocBatchBuilder builder_;
  std::vector<EventBuffer*> pending_;
  // Per thread, the latest event time written. The TSC rate is recalibrated every cycle, so a
  // later chunk's first event could otherwise convert to a time before the last one written.
  std::unordered_map<uint32_t, uint64_t> last_ns_;
  uint32_t stacks_written_ = 0;
  uint64_t alloc_events_ = 0, free_events_ = 0, truncated_stacks_ = 0;
};

}  // namespace tierscope::recorder
