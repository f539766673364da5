// Planner speed: what the viewer's live what-if waits for. Loads a profile once, then times
// analyzer::MakePlan alone (no profile reading or writing) for each fast-tier size, auto method
// (greedy on big profiles) and forced exact (stops at the node budget).
//   plan_bench PROFILE [SIZE...]      (default sizes 1G 8G 64G; e.g. from ts-gui-genprofile)
#include <time.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tierscope/analyzer/plan.h"
#include "tierscope/formats/profile_io.h"

using namespace tierscope;

namespace {

// Process CPU time, not wall time: the machine the figures come from is shared.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PROFILE [SIZE...]\n", argv[0]);
    return 2;
  }
  std::vector<std::string> sizes(argv + 2, argv + argc);
  if (sizes.empty()) sizes = {"1G", "8G", "64G"};
  try {
    const profile::ProfileChunk loaded = formats::LoadProfile(argv[1]);
    std::printf("%d sites\n%-6s %-7s %12s  %s\n", loaded.sites_size(), "fast", "method",
                "CPU seconds", "plan method");
    for (const auto& size : sizes) {
      for (auto method :
           {analyzer::PlanOptions::Method::kAuto, analyzer::PlanOptions::Method::kExact}) {
        analyzer::PlanOptions options;
        options.tiers = {analyzer::ParseTier("fast=" + size), analyzer::ParseTier("slow=rest")};
        options.tiers[0].latency_ns = 100;
        options.tiers[1].latency_ns = 300;
        options.method = method;
        profile::ProfileChunk p = loaded;
        const double start = CpuSeconds();
        analyzer::MakePlan(options, &p);
        const double cpu = CpuSeconds() - start;
        std::printf("%-6s %-7s %12.3f  %s\n", size.c_str(),
                    method == analyzer::PlanOptions::Method::kAuto ? "auto" : "exact", cpu,
                    p.plan().method().c_str());
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plan_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
