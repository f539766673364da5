#include "join/profile_metadata.h"

#include <algorithm>

#ifndef TIERSCOPE_VERSION
#define TIERSCOPE_VERSION "unknown"
#endif

namespace tierscope::analyzer {

void DescribeSampler(const trace::Header& header, profile::Metadata* meta) {
  std::string names, weighting;
  double per_sample = 1;
  for (const auto& s : header.samplers()) {
    const char* name = "none";
    switch (s.kind()) {
      case trace::SAMPLER_PEBS:
        name = "pebs";
        per_sample = double(std::max<uint64_t>(1, s.period()));
        break;
      case trace::SAMPLER_IBS:
        name = "ibs";
        per_sample = double(std::max<uint64_t>(1, s.period()));
        break;
      case trace::SAMPLER_TIMER:
        name = "timer";
        break;
      case trace::SAMPLER_FAULTS:
        name = "faults";
        break;
      default:
        break;
    }
    if (!names.empty()) names += "+";
    names += name;
    std::string w = s.weighting();
    if (w.empty() && s.kind() == trace::SAMPLER_TIMER) {
      w = "timer: one sample per " + std::to_string(s.period()) +
          " ns of CPU time at a memory instruction; counts are weighted by stall time, not by "
          "access count";
    }
    if (!w.empty()) weighting += (weighting.empty() ? "" : "; ") + w;
  }
  meta->set_sampler(names.empty() ? "none" : names);
  meta->set_weighting(weighting.empty() ? "no access samples" : weighting);
  meta->set_accesses_per_sample(per_sample);
}

void DescribeRun(const TraceIndex& trace, const std::string& path, const TimeBins& bins,
                 uint64_t end_ns, profile::Metadata* meta) {
  meta->set_tierscope_version(TIERSCOPE_VERSION);
  DescribeSampler(trace.header, meta);
  meta->set_alloc_sample_bytes(double(trace.header.recorder().alloc_sample_bytes()));
  const uint64_t duration = end_ns - bins.start_ns;
  meta->set_bin_ns(bins.bin_ns);
  meta->set_duration_ns(duration);
  auto* run = meta->add_runs();
  run->set_program(trace.header.executable());
  *run->mutable_cmdline() = trace.header.cmdline();
  run->set_hostname(trace.header.hostname());
  run->set_pid(trace.header.pid());
  run->set_start_realtime_ns(trace.header.start_realtime_ns());
  run->set_duration_ns(duration);
  run->set_trace_path(path);
}

}  // namespace tierscope::analyzer
