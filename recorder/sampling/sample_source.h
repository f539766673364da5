// The plug between the recorder runtime and the access-sampling sources: the contract of
// docs/architecture.md. The runtime implements SampleSink and holds a SampleSource that
// CreateSampleSource opens. It lives here, in the lower room: sampling knows nothing of the
// runtime (the runtime hands in what it must run on the drain thread).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sampling_options.h"
#include "tierscope/formats/sample_columns.h"
#include "trace.pb.h"

namespace tierscope::recorder {

class SampleSink {  // implemented by the recorder runtime
 public:
  virtual ~SampleSink() = default;
  // From a source's drain thread (already marked internal), never from a program thread.
  virtual void OnSamples(uint32_t tid, trace::SamplerKind source,
                         const formats::AccessSample* samples, size_t count) = 0;
  // Adds to the trace's counters: samples_lost, throttle_events, samples_undecoded,
  // undecoded_by_reason, sampler_errors.
  virtual void AddCounters(const trace::Counters& delta) = 0;
};

class SampleSource {  // implemented by a SamplingSession
 public:
  virtual ~SampleSource() = default;
  virtual std::vector<trace::SamplerConfig> configs() const = 0;  // for the trace header
  virtual void OnThreadStart(pid_t tid) = 0;  // in the new thread, before its start routine
  virtual void OnThreadExit(pid_t tid) = 0;   // in the exiting thread
  virtual void Stop() = 0;                    // drain all and stop; once, at exit
  // Like Stop, for the crash and exit paths: waits at most max_wait_ns for the source's threads
  // (a crashed thread may hold a lock they need, such as malloc's) and allocates nothing.
  // Returns false when they did not finish in time; they are then left as they are.
  virtual bool StopWithin(uint64_t max_wait_ns) = 0;
};

// Opens the sources `options` asks for ("auto", "timer", "timer+faults", ...). Returns null and
// a one-line reason in *error when nothing can be opened. on_drain_thread_start runs first in the
// drain thread (the recorder marks the thread its own there, so that its allocations are not
// recorded). quiet: no notices on stderr (a forked child opening its own sources: the parent
// said it already).
std::unique_ptr<SampleSource> CreateSampleSource(const SamplingOptions& options, SampleSink* sink,
                                                 void (*on_drain_thread_start)(),
                                                 std::string* error, bool quiet = false);

}  // namespace tierscope::recorder
