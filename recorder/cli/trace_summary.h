// What `tierscope record` says at the end, read back from the trace it just wrote.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace tierscope::recorder {

struct TraceSummary {
  uint64_t alloc_events = 0, free_events = 0, stacks = 0, threads = 0, dropped = 0;
  uint64_t samples = 0, module_maps = 0, chunks = 0, file_bytes = 0;
  uint64_t unwind_checks = 0, unwind_mismatches = 0;  // --unwind check
  std::string end_reason;                             // empty when the trace has no footer
  std::string samplers;  // the access samplers the header names ("timer", "timer+faults"), or ""
  // The timer's period and the measured cost of one of its samples (0: not measured).
  uint64_t timer_period_ns = 0, timer_sample_cost_ns = 0;
  std::string error;  // first damage found, if any (earlier chunks still counted)
};

// Reads the whole trace; never throws (problems go to .error).
TraceSummary SummarizeTrace(const std::string& path);

// One paragraph: events, distinct stacks, threads, dropped, size, bytes/event.
std::string FormatSummary(const std::string& path, const TraceSummary& s);

// The traces other processes of a run wrote beside `output` (OUTPUT-stem.PID*.trace: forked
// children, images before an exec), modified since `since`.
struct TracesBeside {
  size_t count = 0;
  uint64_t bytes = 0;
};
TracesBeside FindTracesBeside(const std::string& output, std::filesystem::file_time_type since);

// The line that names them and how to analyze them with the main trace; empty when there are none.
std::string FormatTracesBeside(const std::string& output, const TracesBeside& t);

}  // namespace tierscope::recorder
