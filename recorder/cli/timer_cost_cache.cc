#include "timer_cost_cache.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sampling/timer_cost.h"

namespace tierscope::recorder {
namespace {

constexpr uint64_t kImplausibleCostNs = 1000000;

std::string BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

}  // namespace

std::string TimerCostCachePath() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg == '/') return std::string(xdg) + "/tierscope/timer-sample-cost";
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home == '/') {
    return std::string(home) + "/.cache/tierscope/timer-sample-cost";
  }
  return "";
}

bool TimerSampleCostForThisBoot(const std::string& cache_path, uint64_t* cost_ns,
                                std::string* error) {
  const std::string boot = BootId();
  // One line: "<boot_id> <ns>". Anything else (another boot, a damaged file) is measured again.
  if (!boot.empty() && !cache_path.empty()) {
    std::ifstream in(cache_path);
    std::string kept_boot;
    uint64_t kept = 0;
    // A figure no timer interrupt takes (a millisecond) is a damaged file, not a cost.
    if (in >> kept_boot >> kept && kept_boot == boot && kept < kImplausibleCostNs) {
      *cost_ns = kept;
      return true;
    }
  }
  if (!sampling::MeasureTimerSampleCost(cost_ns, error)) return false;
  if (boot.empty() || cache_path.empty()) return true;
  std::error_code ec;
  const std::filesystem::path path(cache_path);
  std::filesystem::create_directories(path.parent_path(), ec);
  // Written aside and renamed: two records starting together never read half a line.
  const std::string tmp = cache_path + "." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << boot << " " << *cost_ns << "\n";
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return true;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
  return true;
}

}  // namespace tierscope::recorder
