// The profile's metadata from what pass 1 read (join/trace_index.h): which build analyzed it,
// how its samples are weighted, the allocation sampling, the time bins and the run itself.
#pragma once

#include <cstdint>
#include <string>

#include "join/trace_index.h"
#include "profile.pb.h"

namespace tierscope::analyzer {

// Sampler names ("timer", "pebs+faults"), what a sample's count means, and how many accesses one
// sample stands for (the period of event-based samplers; 1 for the timer).
void DescribeSampler(const trace::Header& header, profile::Metadata* meta);

// Everything but the join's counts: version, sampler, allocation sampling, bins, duration
// (bins.start_ns to end_ns) and one run from the trace's header.
void DescribeRun(const TraceIndex& trace, const std::string& path, const TimeBins& bins,
                 uint64_t end_ns, profile::Metadata* meta);

}  // namespace tierscope::analyzer
