// Process-wide recorder state shared by the hot path (runtime.cc) and the writer (writer.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config.h"
#include "event_buffer.h"
#include "event_clock.h"
#include "runtime.h"
#include "sampling/sample_source.h"
#include "stack_table.h"
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
  std::atomic<ThreadState*> threads{nullptr};   // every ThreadState, newest first
  std::atomic<uint64_t> threads_unrecorded{0};  // slab full
  std::atomic<uint64_t> dropped_without_thread{0};
  uint64_t own_text_start = 0, own_text_end = 0;  // our code: frames skipped

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

RuntimeState& State();

}  // namespace tierscope::recorder
