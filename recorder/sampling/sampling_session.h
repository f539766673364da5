// The sampling sources of one process: per-thread perf events with an mmap'd ring each, and one
// drain thread woken by poll (watermark) that parses, decodes and hands samples to a sink.
// Program threads only open/close their events (OnThreadStart/OnThreadExit): no lock, no
// allocation, no syscall per sample on their side.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sample_source.h"
#include "sampling_options.h"
#include "tierscope/formats/sample_columns.h"
#include "trace.pb.h"

namespace tierscope::recorder::sampling {

struct SessionHooks {
  // Runs first in the drain thread (the recorder marks it internal there).
  std::function<void()> on_drain_thread_start;
  // Lines for stderr (which source `auto` chose, why a source could not open, degradation).
  // Default: written to stderr prefixed with "tierscope: ".
  std::function<void(const std::string&)> notice;
  size_t max_threads = 4096;  // slots allocated up front
  // How often the drain thread adapts the period and flushes counters.
  uint64_t control_interval_ns = 1000000000;
};

// Totals for tests and benchmarks.
struct SessionStats {
  uint64_t samples = 0, decoded = 0, undecoded = 0, lost = 0, throttles = 0;
  uint64_t threads_opened = 0, open_failures = 0, period_changes = 0;
  uint64_t current_period = 0;
  double drain_cpu_seconds = 0;
};

class SamplingSession {
 public:
  // Resolves `options` (auto → PEBS, IBS, timer), checks each source opens on this thread, starts
  // the drain thread. Null and one line in *error when no source can be opened.
  static std::unique_ptr<SamplingSession> Create(const SamplingOptions& options, SampleSink* sink,
                                                 SessionHooks hooks, std::string* error);
  ~SamplingSession();

  std::vector<trace::SamplerConfig> configs() const;
  // In the new thread (or for it: per-thread events take the tid).
  void OnThreadStart(pid_t tid);
  void OnThreadExit(pid_t tid);
  // Drains everything, closes every event and joins the drain thread. Idempotent.
  void Stop();
  // Stop, waiting at most max_wait_ns for the drain thread (from a fatal signal handler or an
  // exit path, where the thread that crashed may hold a lock the drain thread needs). Allocates
  // nothing. False when the drain thread did not finish: it and its fds are left alone (and the
  // session's memory is then never freed).
  bool StopWithin(uint64_t max_wait_ns);
  SessionStats stats() const;

  struct Impl;

 private:
  explicit SamplingSession(std::unique_ptr<Impl> impl);
  void SayStatsIfAsked();
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierscope::recorder::sampling
