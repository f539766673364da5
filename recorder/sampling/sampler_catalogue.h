// The sources a --sampler choice stands for (timer, page faults, IBS, PEBS) and which of them
// open on this machine: the perf events of each, proved to open on the calling thread before the
// program's threads depend on them, and `auto`'s fallback (PEBS, then IBS, then timer).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "perf_attr.h"
#include "sampling_options.h"
#include "trace.pb.h"

namespace tierscope::recorder::sampling {

// Perf events one thread may have open, over all sources.
inline constexpr int kMaxEventsPerSlot = 6;

struct SourceDef {
  trace::SamplerKind kind = trace::SAMPLER_NONE;
  std::vector<PebsEvent> events;  // in open order; a group leader precedes its member
  size_t data_pages = 8;
  bool adaptive = false;
  std::vector<trace::SamplerConfig> configs;  // one per sampled event, for the trace header
};

const char* KindName(trace::SamplerKind kind);

// The sources of options.samplers that open here, in order, each with its trace header configs.
// Lines for `notice`: which source `auto` chose (and why not the others), and the sources that
// did not open when others did. None open: empty, and one line in *error.
std::vector<SourceDef> OpenableSources(const SamplingOptions& options,
                                       const std::function<void(const std::string&)>& notice,
                                       std::string* error);

}  // namespace tierscope::recorder::sampling
