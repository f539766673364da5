// Event time stamps. Reading CLOCK_MONOTONIC costs ~30-60 ns per call on a kvm-clock guest
// (this machine), more than the rest of the hook; the invariant TSC costs a few. Hooks store raw
// ticks, and the writer converts them to CLOCK_MONOTONIC ns with a rate calibrated against
// clock_gettime over the whole run. Without an invariant TSC, ticks are ns.
#pragma once

#include <x86intrin.h>

#include <cstdint>

namespace tierscope::recorder {

uint64_t NowNs();

class EventClock {
 public:
  // Decides between TSC and clock_gettime, and notes where the TSC starts.
  void Init();
  // Hot path.
  uint64_t Ticks() const { return use_tsc_ ? __rdtsc() : NowNs(); }
  // Writer, before it converts: the rate from start-up to now (longer span, better rate).
  void Recalibrate();
  uint64_t ToNs(uint64_t ticks) const {
    if (!use_tsc_) return ticks;
    const double d = static_cast<double>(static_cast<int64_t>(ticks - tsc0_)) * ns_per_tick_;
    return ns0_ + static_cast<int64_t>(d);
  }
  bool uses_tsc() const { return use_tsc_; }

 private:
  bool use_tsc_ = false;
  uint64_t tsc0_ = 0, ns0_ = 0;
  double ns_per_tick_ = 1.0;
};

}  // namespace tierscope::recorder
