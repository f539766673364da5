#include "sampler_catalogue.h"

#include <unistd.h>

#include <cstring>

#include "perf_open.h"
#include "timer_cost.h"

namespace tierscope::recorder::sampling {
namespace {

// Opens every event of `def` on the calling thread and closes them again: proves the source works
// here before the program's threads depend on it.
bool TestOpen(const SourceDef& def, std::string* error) {
  int fds[kMaxEventsPerSlot];
  int n = 0;
  int leader = -1;
  bool ok = true;
  for (const auto& e : def.events) {
    int fd = PerfEventOpen(e.attr, 0, e.group_leader ? -1 : leader);
    if (fd < 0) {
      *error = ExplainOpenError(KindName(def.kind), -fd);
      ok = false;
      break;
    }
    fds[n++] = fd;
    leader = e.group_leader ? fd : -1;
  }
  for (int i = 0; i < n; ++i) close(fds[i]);
  return ok;
}

bool MakeTimer(const SamplingOptions& o, SourceDef* def, std::string*) {
  def->kind = trace::SAMPLER_TIMER;
  const uint64_t period =
      o.period ? o.period : TimerPeriodForBudget(o.timer_sample_cost_ns, o.cpu_budget);
  def->events = {PebsEvent{"task-clock", TimerAttr(period), false}};
  def->adaptive = o.cpu_budget > 0;
  def->data_pages = 8;
  return true;
}

bool MakeFaults(const SamplingOptions&, SourceDef* def, std::string*) {
  def->kind = trace::SAMPLER_FAULTS;
  def->events = {PebsEvent{"page-faults", FaultsAttr(), false}};
  def->data_pages = 32;  // first touches come in bursts (a fresh buffer being filled)
  return true;
}

bool MakeIbs(const SamplingOptions& o, SourceDef* def, std::string* error) {
  IbsFeatures features;
  if (!ReadIbsFeatures(&features, error)) return false;
  def->kind = trace::SAMPLER_IBS;
  def->events = {PebsEvent{"ibs_op", IbsOpAttr(features, o.period, false), false}};
  def->adaptive = o.cpu_budget > 0;
  def->data_pages = 32;
  return true;
}

bool MakePebs(const SamplingOptions& o, SourceDef* def, std::string* error) {
  std::vector<PebsEvent> events;
  if (!PebsAttrs(o.events, o.period, &events, error)) return false;
  if (events.size() > kMaxEventsPerSlot - 1) {
    *error = "pebs: at most 4 events may be sampled together";
    return false;
  }
  def->kind = trace::SAMPLER_PEBS;
  def->events = std::move(events);
  def->adaptive = o.cpu_budget > 0;
  def->data_pages = 32;
  return true;
}

// `auto` tries PEBS first, but naming its events loads libpfm4, whose 41k relocations cost every
// process about 5 ms: a shell script's short programs each paid that to learn that a VM has no
// PMU. PEBS needs the hardware cycles event, which opens with one system call and no library.
bool MakePebsWhereThereIsAPmu(const SamplingOptions& o, SourceDef* def, std::string* error) {
  if (const int err = OpenHardwareCycles(); err != 0) {
    *error =
        std::string("pebs: no hardware PMU here (the cycles event: ") + std::strerror(err) + ")";
    return false;
  }
  return MakePebs(o, def, error);
}

using MakeFn = bool (*)(const SamplingOptions&, SourceDef*, std::string*);

}  // namespace

const char* KindName(trace::SamplerKind kind) {
  switch (kind) {
    case trace::SAMPLER_PEBS:
      return "pebs";
    case trace::SAMPLER_IBS:
      return "ibs";
    case trace::SAMPLER_TIMER:
      return "timer";
    case trace::SAMPLER_FAULTS:
      return "faults";
    default:
      return "none";
  }
}

std::vector<SourceDef> OpenableSources(const SamplingOptions& options,
                                       const std::function<void(const std::string&)>& notice,
                                       std::string* error) {
  std::vector<SourceDef> sources;
  if (options.samplers.empty()) {
    *error = "sampling is off (--sampler none)";
    return sources;
  }
  std::string failures;
  auto add_failure = [&](const std::string& why) {
    failures += failures.empty() ? why : "; " + why;
  };
  auto try_source = [&](MakeFn make) {
    SourceDef def;
    std::string why;
    if (!make(options, &def, &why) || !TestOpen(def, &why)) {
      add_failure(why);
      return false;
    }
    def.configs = SamplerConfigsFor(def.kind, def.events, def.adaptive, options.cpu_budget);
    if (def.kind == trace::SAMPLER_TIMER) {
      for (auto& c : def.configs) c.set_sample_cost_ns(options.timer_sample_cost_ns);
    }
    sources.push_back(std::move(def));
    return true;
  };
  for (SamplerChoice choice : options.samplers) {
    switch (choice) {
      case SamplerChoice::kTimer:
        try_source(MakeTimer);
        break;
      case SamplerChoice::kFaults:
        try_source(MakeFaults);
        break;
      case SamplerChoice::kPebs:
        try_source(MakePebs);
        break;
      case SamplerChoice::kIbs:
        try_source(MakeIbs);
        break;
      case SamplerChoice::kAuto: {
        std::string before = failures;
        failures.clear();
        const bool ok =
            try_source(MakePebsWhereThereIsAPmu) || try_source(MakeIbs) || try_source(MakeTimer);
        if (ok) {
          if (options.say_auto_choice) {
            notice(std::string("sampler auto: using ") + KindName(sources.back().kind) +
                   (failures.empty() ? "" : " (" + failures + ")"));
          }
          failures = before;
        } else {
          failures = before.empty() ? failures : before + "; " + failures;
        }
        break;
      }
    }
  }
  if (sources.empty()) {
    *error = "no access sampler could be opened: " + failures;
    return sources;
  }
  if (!failures.empty()) notice(failures);
  return sources;
}

}  // namespace tierscope::recorder::sampling
