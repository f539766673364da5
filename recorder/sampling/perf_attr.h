// perf_event_attr builders, one per source. Pure functions of their inputs (plus libpfm4 for PEBS),
// so tests can assert every field without the hardware.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <string>
#include <vector>

#include "trace.pb.h"

namespace tierscope::recorder::sampling {

// User registers the timer sampler asks for: AX..FLAGS, CS, SS (bits 0-11) and R8..R15 (16-23).
// The segment bits 12-15 make perf_event_open fail with EINVAL, so fs/gs bases are unknown.
inline constexpr uint64_t kTimerRegsMask = 0xff0fffULL;
inline constexpr int kTimerRegCount = 20;
// Index of each register inside a sample's regs array for kTimerRegsMask (mask-bit order).
enum PerfRegSlot : int {
  kRegAx = 0,
  kRegBx,
  kRegCx,
  kRegDx,
  kRegSi,
  kRegDi,
  kRegBp,
  kRegSp,
  kRegIp,
  kRegFlags,
  kRegCs,
  kRegSs,
  kRegR8,
  kRegR9,
  kRegR10,
  kRegR11,
  kRegR12,
  kRegR13,
  kRegR14,
  kRegR15,
};

inline constexpr uint64_t kDefaultTimerPeriodNs = 1000000;  // 1 ms: +4-5% in a VM (docs/facts.md)
inline constexpr uint64_t kDefaultPebsPeriod = 10007;       // prime: avoids loop aliasing
inline constexpr uint64_t kDefaultIbsPeriod = 0x10000;      // ops; multiple of 16
inline constexpr uint32_t kDefaultLoadLatency = 32;         // cycles, ldlat threshold

// Task-clock timer with user registers, CLOCK_MONOTONIC times. period in ns.
perf_event_attr TimerAttr(uint64_t period_ns);
// Every user page fault with its data address.
perf_event_attr FaultsAttr();

// What the running kernel/CPU supports for IBS op (from sysfs, or given by tests).
struct IbsFeatures {
  uint32_t pmu_type = 0;    // /sys/bus/event_source/devices/ibs_op/type
  bool l3missonly = false;  // Zen 4+: format/l3missonly (config bit 16)
  bool swfilt = false;      // newer kernels: format/swfilt (config2 bit 0) for exclude_kernel
  bool cnt_ctl = false;     // format/cnt_ctl (config bit 19): the period counts dispatched ops
};
// Reads sysfs; false and one line (what is missing, what to do) when there is no ibs_op PMU.
bool ReadIbsFeatures(IbsFeatures* out, std::string* error);
// IBS op sampling of user code. period: ops, rounded to a multiple of 16 (≥ 16).
perf_event_attr IbsOpAttr(const IbsFeatures& features, uint64_t period, bool l3_miss_only);

// One PEBS event to open; `group_leader` events are opened first and the next event joins them.
struct PebsEvent {
  std::string name;  // the libpfm4 string, or "mem-loads-aux" for the SPR leader
  perf_event_attr attr;
  bool group_leader = false;  // not sampled; the following event is in its group
};
// What the trace header says of a source: one SamplerConfig per sampled event (group leaders
// are not sampled), in open order: PEBS loads and stores are two entries.
std::vector<trace::SamplerConfig> SamplerConfigsFor(trace::SamplerKind kind,
                                                    const std::vector<PebsEvent>& events,
                                                    bool adaptive, double budget);
// Initializes libpfm4 once (honours LIBPFM_FORCE_PMU set before the first call).
bool InitPfm(std::string* error);
// The core PMU libpfm4 sees ("skx", "icx", "spr", ...), or "" when none (a VM, an AMD CPU).
std::string PfmCorePmuName();
// Default events for the CPU: load latency ≥ ldlat cycles and all stores.
std::vector<std::string> DefaultPebsEvents(const std::string& pmu_name);
// Encodes `events` (or the defaults when empty) with libpfm4, sets precise_ip, the sample type and
// the period, and puts the mem-loads-aux leader in front of load-latency events on Sapphire
// Rapids and later. False and one line when an event cannot be encoded.
bool PebsAttrs(const std::vector<std::string>& events, uint64_t period, std::vector<PebsEvent>* out,
               std::string* error);

}  // namespace tierscope::recorder::sampling
