// Process-wide recorder state shared by the runtime's parts: start-up (recorder_startup.cc), the
// hot path (event_recording.cc), threads and process life cycle (life_cycle.cc), the samplers'
// sink (sample_sink.cc) and the writer (writer.cc).
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "address_set.h"
#include "config.h"
#include "event_buffer.h"
#include "event_clock.h"
#include "runtime.h"
#include "sampling/sample_source.h"
#include "stack_table.h"
#include "tierscope/common/call_frame_walk.h"
#include "trace.pb.h"

namespace tierscope::recorder {

class Writer;

struct RuntimeState {
  Config config;
  pid_t pid = 0;
  std::string output;  // the path this process writes
  EventClock clock;    // RawEvent.time_ns holds its ticks until the writer converts them
  BufferPool pool;
  StackTable stacks;
  common::StepRuleCache rules;  // the unwind tables' rules met so far (UnwindMode::kAuto, kCheck)
  std::atomic<ThreadState*> threads{nullptr};   // every ThreadState, newest first
  std::atomic<uint64_t> threads_unrecorded{0};  // slab full
  std::atomic<uint64_t> dropped_without_thread{0};
  uint64_t own_text_start = 0, own_text_end = 0;  // our code: frames skipped
  AddressSet sampled;                  // addresses of sampled blocks (sampling / min-size modes)
  ThreadState* thread_slab = nullptr;  // kMaxThreadStates of them, handed out in order
  std::atomic<size_t> thread_slab_used{0};
  pthread_key_t thread_key;  // its destructor sees a thread exit

  // Not on the hot path: dlopen/dlclose, samples, counters of the samplers.
  std::mutex side_mutex;
  std::vector<trace::ModuleMap> pending_maps;
  std::vector<trace::SampleBatch> pending_samples;
  trace::Counters sampler_counters;

  std::unique_ptr<SampleSource> sampler;
  Writer* writer = nullptr;
  std::atomic<bool> finished{false};
  std::atomic<int> exit_status{0};
};

inline constexpr size_t kMaxThreadStates = 1 << 16;

// Null before start-up and in a process the recorder does not trace.
extern RuntimeState* g_state;
inline RuntimeState& State() {
  return *g_state;
}

// The calling thread's state; null until it first records.
extern __thread ThreadState* t_state __attribute__((tls_model("initial-exec")));

// Raises t_guard for a scope: what the recorder does there itself is not recorded.
struct Guard {
  Guard() { ++t_guard; }
  ~Guard() { --t_guard; }
};

uint32_t SysTid();

// Exponential with mean `mean` (tcmalloc's sampler): each byte sampled with probability 1/mean.
// Per thread (its rng), from the hot path and for a new thread's first distance.
int64_t NextSampleDistance(ThreadState* t, uint64_t mean);

// Start-up, again in a forked child (recorder_startup.cc).
// Opens the trace and starts the writer; false (after one line on stderr) when it cannot.
bool StartWriter(RuntimeState& s);

// The access samplers from TIERSCOPE_SAMPLER and friends (sample_sink.cc), feeding the trace.
// Null when sampling is off or no source opens (said on stderr unless quiet).
// `root`: the program `tierscope record` started (not a process it forked, nor an image it
// exec'd), the only one that says which source `--sampler auto` picked.
std::unique_ptr<SampleSource> OpenSampleSource(bool quiet, bool root);

// Life cycle (life_cycle.cc): the thread key whose destructor sees threads exit; then, once
// recording, fork handlers and fatal-signal handlers.
bool CreateThreadKey(RuntimeState& s);
void WatchProcess();

}  // namespace tierscope::recorder
