#include "trace_summary.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "runtime/config.h"
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

TracesBeside FindTracesBeside(const std::string& output, std::filesystem::file_time_type since) {
  namespace fs = std::filesystem;
  TracesBeside t;
  const fs::path stem(TraceStem(output));
  const std::string prefix = stem.filename().string() + ".";
  const fs::path dir = stem.has_parent_path() ? stem.parent_path() : fs::path(".");
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0 ||
        !std::isdigit(static_cast<unsigned char>(name[prefix.size()])) ||
        name.compare(name.size() - 6, 6, ".trace") != 0) {
      continue;
    }
    std::error_code e;
    if (!it->is_regular_file(e) || it->last_write_time(e) < since || e) continue;
    ++t.count;
    t.bytes += it->file_size(e);
  }
  return t;
}

std::string FormatTracesBeside(const std::string& output, const TracesBeside& t) {
  if (t.count == 0) return "";
  const std::string stem = TraceStem(output);
  char size[32];
  std::snprintf(size, sizeof size, "%.1f MB", static_cast<double>(t.bytes) / 1e6);
  return "tierscope: " + std::to_string(t.count) +
         (t.count == 1 ? " other process" : " other processes") +
         " of the run (forks, images before an exec) wrote traces beside it, " + stem +
         ".PID*.trace (" + size + "): 'tierscope analyze " + output + " " + stem +
         ".*.trace' makes one profile of them all (--no-follow-fork: record the first process "
         "only)";
}

}  // namespace tierscope::recorder
