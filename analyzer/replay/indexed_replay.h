// The replay and the footprint of a trace whose pass 1 is done: SelectPlan replays the learned
// run once per candidate plan and capacity, and indexing the trace once for all of them (the index
// is read-only, so the replays may run on threads of their own) saves a pass over the file each.
#pragma once

#include <string>

#include "join/trace_index.h"
#include "tierscope/analyzer/evaluate.h"

namespace tierscope::analyzer {

// Evaluate and MeasureFootprint (evaluate.h) after IndexTrace.
EvaluationResult EvaluateIndexed(const TraceIndex& trace, const std::string& trace_path,
                                 const profile::ProfileChunk& planned,
                                 const profile::ProfileChunk* random_plan,
                                 const EvaluateOptions& options);
Footprint MeasureFootprintIndexed(const TraceIndex& trace, const std::string& trace_path,
                                  const std::atomic<bool>* cancel);

}  // namespace tierscope::analyzer
