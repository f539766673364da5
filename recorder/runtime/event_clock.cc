#include "event_clock.h"

#include <time.h>

#include <fstream>
#include <string>

namespace tierscope::recorder {
namespace {

bool HasInvariantTsc() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      return line.find(" constant_tsc") != std::string::npos &&
             line.find(" nonstop_tsc") != std::string::npos;
    }
  }
  return false;
}

}  // namespace

void EventClock::Init() {
  use_tsc_ = HasInvariantTsc();
  if (!use_tsc_) return;
  // No wait to calibrate here (it was 1 ms of every recorded process's start): ticks become ns
  // only in the writer, which recalibrates over the whole span so far before each conversion.
  // Over a short span the rate is rougher, but the error in ns stays within the jitter of one
  // clock reading (tens of ns), under the trace's 64 ns unit.
  tsc0_ = __rdtsc();
  ns0_ = NowNs();
}

void EventClock::Recalibrate() {
  if (!use_tsc_) return;
  const uint64_t tsc = __rdtsc();
  const uint64_t ns = NowNs();
  if (tsc > tsc0_ && ns > ns0_) {
    ns_per_tick_ = static_cast<double>(ns - ns0_) / static_cast<double>(tsc - tsc0_);
  }
}

}  // namespace tierscope::recorder
