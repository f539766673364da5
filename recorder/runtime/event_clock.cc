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
  tsc0_ = __rdtsc();
  ns0_ = NowNs();
  timespec wait{0, 1'000'000};
  nanosleep(&wait, nullptr);
  Recalibrate();
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
