#include "trace_summary.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "sampling/sampler_catalogue.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::recorder {

TraceSummary SummarizeTrace(const std::string& path) {
  TraceSummary s;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) s.file_bytes = static_cast<uint64_t>(st.st_size);
  try {
    formats::TraceReader reader(path);
    trace::TraceChunk chunk;
    std::set<uint32_t> tids;
    uint64_t dropped = 0;
    while (reader.Next(&chunk)) {
      ++s.chunks;
      for (const auto& b : chunk.allocs()) {
        s.alloc_events += static_cast<uint64_t>(b.stack_id_size());
        s.free_events += static_cast<uint64_t>(b.kind_size() - b.stack_id_size());
      }
      for (const auto& b : chunk.samples()) s.samples += static_cast<uint64_t>(b.access_size());
      for (const auto& t : chunk.threads()) tids.insert(t.tid());
      if (chunk.has_header() && s.samplers.empty()) {
        for (const auto& c : chunk.header().samplers()) {
          const std::string name = sampling::KindName(c.kind());
          if (c.kind() == trace::SAMPLER_TIMER) {
            s.timer_period_ns = c.period();
            s.timer_sample_cost_ns = c.sample_cost_ns();
          }
          if (s.samplers.find(name) == std::string::npos) {
            s.samplers += (s.samplers.empty() ? "" : "+") + name;
          }
        }
      }
      s.stacks += static_cast<uint64_t>(chunk.stacks_size());
      s.module_maps += static_cast<uint64_t>(chunk.module_maps_size());
      if (chunk.has_counters()) {
        dropped = chunk.counters().dropped_events();
        s.unwind_checks = chunk.counters().unwind_checks();
        s.unwind_mismatches = chunk.counters().unwind_mismatches();
      }
      if (chunk.has_footer()) s.end_reason = chunk.footer().end_reason();
    }
    s.threads = tids.size();
    s.dropped = dropped;
    if (reader.error()) s.error = reader.error()->Message();
  } catch (const std::exception& e) {
    s.error = e.what();
  }
  return s;
}

std::string FormatSummary(const std::string& path, const TraceSummary& s) {
  const uint64_t events = s.alloc_events + s.free_events;
  char buf[1024];
  std::snprintf(
      buf, sizeof buf,
      "tierscope: recorded %llu events (%llu allocations, %llu releases) from %llu "
      "thread%s with %llu distinct stacks; %llu events dropped; %llu access samples%s; "
      "trace %s: %llu bytes, %.2f bytes/event, %s.",
      static_cast<unsigned long long>(events), static_cast<unsigned long long>(s.alloc_events),
      static_cast<unsigned long long>(s.free_events), static_cast<unsigned long long>(s.threads),
      s.threads == 1 ? "" : "s", static_cast<unsigned long long>(s.stacks),
      static_cast<unsigned long long>(s.dropped), static_cast<unsigned long long>(s.samples),
      s.samplers.empty() ? " (sampling off)" : (" (" + s.samplers + ")").c_str(), path.c_str(),
      static_cast<unsigned long long>(s.file_bytes),
      events > 0 ? static_cast<double>(s.file_bytes) / static_cast<double>(events) : 0.0,
      s.end_reason.empty() ? "not closed cleanly" : ("closed at " + s.end_reason).c_str());
  std::string out = buf;
  if (s.timer_sample_cost_ns > 0) {
    std::snprintf(
        buf, sizeof buf,
        " A timer sample costs the program about %.0f us here; it sampled every %.1f ms "
        "(about %.1f%% of its CPU; --sample-period and --sample-budget set this).",
        double(s.timer_sample_cost_ns) / 1e3, double(s.timer_period_ns) / 1e6,
        100.0 * double(s.timer_sample_cost_ns) / double(std::max<uint64_t>(1, s.timer_period_ns)));
    out += buf;
  }
  if (s.unwind_checks > 0) {
    out += " Unwind check: " + std::to_string(s.unwind_mismatches) + " of " +
           std::to_string(s.unwind_checks) +
           " stacks walked by the unwind tables differ from libunwind's.";
  }
  if (!s.error.empty()) out += " Damage: " + s.error + " (earlier chunks kept).";
  return out;
}

}  // namespace tierscope::recorder
