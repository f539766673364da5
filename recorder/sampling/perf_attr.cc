#include "perf_attr.h"

#include "pfm_library.h"

#include <time.h>

#include <cstdio>
#include <cstring>
#include <fstream>

namespace tierscope::recorder::sampling {
namespace {

perf_event_attr BaseAttr() {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.disabled = 0;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.use_clockid = 1;
  attr.clockid = CLOCK_MONOTONIC;  // the trace's clock
  attr.watermark = 1;
  attr.wakeup_watermark =
      8192;  // bytes: wake the drain thread a few times per ring, not per sample
  return attr;
}

bool FileExists(const std::string& path) {
  return std::ifstream(path).good();
}

// Sapphire Rapids and later need the mem-loads-aux event as leader of a load-latency group.
bool NeedsAuxLeader(const std::string& pmu) {
  return pmu == "spr" || pmu == "emr" || pmu == "gnr";
}

bool IsLoadLatency(const perf_event_attr& attr) {
  return (attr.config & 0xffff) == 0x1cd;  // MEM_TRANS_RETIRED.LOAD_LATENCY
}

}  // namespace

perf_event_attr TimerAttr(uint64_t period_ns) {
  perf_event_attr attr = BaseAttr();
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.sample_period = period_ns ? period_ns : kDefaultTimerPeriodNs;
  attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_REGS_USER;
  attr.sample_regs_user = kTimerRegsMask;
  return attr;
}

perf_event_attr FaultsAttr() {
  perf_event_attr attr = BaseAttr();
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_PAGE_FAULTS;
  attr.sample_period = 1;
  attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR;
  return attr;
}

namespace {

trace::SamplerConfig ConfigFor(trace::SamplerKind kind, const PebsEvent& e, bool adaptive,
                               double budget) {
  trace::SamplerConfig c;
  c.set_kind(kind);
  c.set_event(e.name);
  c.set_period(e.attr.sample_period);
  c.set_adaptive(adaptive);
  c.set_cpu_budget(adaptive ? budget : 0);
  c.set_perf_type(e.attr.type);
  c.set_perf_config(e.attr.config);
  c.set_perf_config1(e.attr.config1);
  c.set_perf_config2(e.attr.config2);
  switch (kind) {
    case trace::SAMPLER_TIMER:
      c.set_weighting(
          "one sample per period of CPU time in user code: counts are weighted by stall time, not "
          "by access count");
      break;
    case trace::SAMPLER_FAULTS:
      c.set_weighting("one sample per first touch of a page (page fault)");
      break;
    default:
      c.set_weighting("one sample per period of retired memory operations; weight = latency");
      break;
  }
  return c;
}

}  // namespace

std::vector<trace::SamplerConfig> SamplerConfigsFor(trace::SamplerKind kind,
                                                    const std::vector<PebsEvent>& events,
                                                    bool adaptive, double budget) {
  std::vector<trace::SamplerConfig> out;
  for (const auto& e : events) {
    if (!e.group_leader) out.push_back(ConfigFor(kind, e, adaptive, budget));
  }
  return out;
}

bool ReadIbsFeatures(IbsFeatures* out, std::string* error) {
  const std::string dir = "/sys/bus/event_source/devices/ibs_op";
  std::ifstream type_file(dir + "/type");
  uint32_t type = 0;
  if (!(type_file >> type) || type == 0) {
    *error = "ibs: no ibs_op PMU (" + dir +
             " missing: not an AMD CPU with IBS, or a VM that hides it); use --sampler timer";
    return false;
  }
  out->pmu_type = type;
  out->l3missonly = FileExists(dir + "/format/l3missonly");
  out->swfilt = FileExists(dir + "/format/swfilt");
  out->cnt_ctl = FileExists(dir + "/format/cnt_ctl");
  return true;
}

perf_event_attr IbsOpAttr(const IbsFeatures& features, uint64_t period, bool l3_miss_only) {
  perf_event_attr attr = BaseAttr();
  attr.type = features.pmu_type;
  // IBS counts ops in units of 16: the period must be a multiple of 16 and at least 16.
  uint64_t p = period ? period : kDefaultIbsPeriod;
  p = p < 16 ? 16 : p & ~uint64_t{15};
  attr.sample_period = p;
  attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR |
                     PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC;
  if (l3_miss_only && features.l3missonly) attr.config |= uint64_t{1} << 16;
  // IbsOpCntCtl: the period counts dispatched ops (what the docs and --sample-period say), not
  // clock cycles (the hardware's meaning when the bit is clear).
  if (features.cnt_ctl) attr.config |= uint64_t{1} << 19;
  // Without swfilt the IBS PMU rejects exclude_* with EINVAL; with it, bit 0 of config2 turns the
  // software filter on and exclude_kernel is honoured.
  if (features.swfilt) {
    attr.config2 |= 1;
    attr.exclude_kernel = 1;
  } else {
    attr.exclude_kernel = 0;
  }
  attr.exclude_hv = 0;
  return attr;
}

bool InitPfm(std::string* error) {
  return Pfm(error) != nullptr;
}

std::string PfmCorePmuName() {
  const PfmLibrary* pfm = Pfm(nullptr);
  if (pfm == nullptr) return "";
  for (int i = PFM_PMU_NONE; i < PFM_PMU_MAX; ++i) {
    const pfm_pmu_t pmu = static_cast<pfm_pmu_t>(i);
    pfm_pmu_info_t info;
    std::memset(&info, 0, sizeof info);
    info.size = sizeof info;
    if (pfm->get_pmu_info(pmu, &info) != PFM_SUCCESS || !info.is_present) continue;
    if (info.type == PFM_PMU_TYPE_CORE && info.name) return info.name;
  }
  return "";
}

std::vector<std::string> DefaultPebsEvents(const std::string& pmu) {
  char loads[96];
  std::snprintf(loads, sizeof loads, "MEM_TRANS_RETIRED:LOAD_LATENCY:ldlat=%u",
                kDefaultLoadLatency);
  // Haswell/Broadwell name the store event MEM_UOPS_RETIRED; Skylake and later MEM_INST_RETIRED.
  if (pmu == "hsw" || pmu == "hsw_ep" || pmu == "bdw" || pmu == "bdw_ep") {
    return {loads, "MEM_UOPS_RETIRED:ALL_STORES"};
  }
  return {loads, "MEM_INST_RETIRED:ALL_STORES"};
}

bool PebsAttrs(const std::vector<std::string>& events, uint64_t period, std::vector<PebsEvent>* out,
               std::string* error) {
  out->clear();
  const PfmLibrary* pfm = Pfm(error);
  if (pfm == nullptr) return false;
  const std::string pmu = PfmCorePmuName();
  if (pmu.empty() && events.empty()) {
    *error =
        "pebs: no Intel core PMU found (no hardware PMU, e.g. in a VM, or an AMD CPU); use "
        "--sampler ibs or --sampler timer";
    return false;
  }
  const std::vector<std::string> names = events.empty() ? DefaultPebsEvents(pmu) : events;
  for (const auto& name : names) {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    pfm_perf_encode_arg_t arg;
    std::memset(&arg, 0, sizeof arg);
    arg.attr = &attr;
    arg.size = sizeof arg;
    int rc = pfm->get_os_event_encoding(name.c_str(), PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
    if (rc != PFM_SUCCESS) {
      // libpfm4 names the core PMU from CPUID even in a VM that has none, and an AMD one has
      // no PEBS events: every failure gets the way out.
      std::string advice = " (no hardware PMU here; use --sampler timer)";
      if (pmu.rfind("amd", 0) == 0) {
        advice = " (an AMD CPU, PMU '" + pmu + "': use --sampler ibs or --sampler timer)";
      } else if (!pmu.empty()) {
        advice = " (PMU '" + pmu + "': check the name with libpfm4's showevtinfo, or use " +
                 "--sampler timer)";
      }
      *error = "pebs: cannot encode event '" + name + "': " + pfm->strerror(rc) + advice;
      return false;
    }
    PebsEvent event;
    event.name = name;
    event.attr = BaseAttr();
    event.attr.type = attr.type;
    event.attr.config = attr.config;
    event.attr.config1 = attr.config1;
    event.attr.config2 = attr.config2;
    event.attr.exclude_kernel = attr.exclude_kernel;
    // libpfm4 leaves precise_ip at 0 unless the string says :precise=N; PEBS needs it.
    event.attr.precise_ip = attr.precise_ip ? attr.precise_ip : 2;
    event.attr.sample_period = period ? period : kDefaultPebsPeriod;
    event.attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                             PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC;
    if (NeedsAuxLeader(pmu) && IsLoadLatency(event.attr)) {
      PebsEvent aux;
      aux.name = "mem-loads-aux";
      aux.attr = BaseAttr();
      aux.attr.type = attr.type;
      aux.attr.config = 0x8203;
      aux.attr.exclude_kernel = attr.exclude_kernel;
      aux.attr.precise_ip = event.attr.precise_ip;
      aux.attr.sample_period = event.attr.sample_period;
      aux.attr.sample_type = event.attr.sample_type;
      aux.group_leader = true;
      out->push_back(aux);
    }
    out->push_back(event);
  }
  return true;
}

}  // namespace tierscope::recorder::sampling
