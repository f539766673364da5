// The plug between the recorder runtime and the access-sampling sources (recorder/sampling/).
// Exactly the contract of docs/architecture.md: the runtime implements SampleSink, a source
// implements SampleSource, and CreateSampleSource (defined in recorder/sampling/) opens them.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tierscope/formats/sample_columns.h"
#include "trace.pb.h"

namespace tierscope::recorder {

struct SamplingOptions;  // defined by recorder/sampling/

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

class SampleSource {  // implemented in recorder/sampling/
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

// Parses a --sampler spec ("auto", "timer", "timer+faults", "none", ...) and opens the sources.
// Returns null and a one-line reason in *error when nothing can be opened. quiet: no notices on
// stderr (a forked child opening its own sources: the parent said it already).
std::unique_ptr<SampleSource> CreateSampleSource(const SamplingOptions& options, SampleSink* sink,
                                                 std::string* error, bool quiet = false);

// Marks the calling thread as the recorder's own (drain threads call it first): its allocations
// are not recorded and it is not reported as a program thread. Defined in the runtime.
void MarkInternalThread();

}  // namespace tierscope::recorder
