// gui_open_bench TRACE [PROFILE]: what opening a trace in tierscope-gui costs: the analyzer's
// AnalyzeTrace with the address map built in the same pass (the viewer's worker thread, without
// the symbolizer), the map's size against its bounds, peak RSS, and one what-if re-plan of the
// analyzed profile (and of PROFILE when given, e.g. a 100k-site one from ts-gui-genprofile).
// gui_open_bench --no-map TRACE: the analysis alone, so the map's share is the difference.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "data/address_map.h"
#include "data/what_if_plan.h"
#include "tierscope/analyzer/analyze.h"

using namespace tierscope;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

long PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

void TimeReplan(const char* what, const gui::ProfileData& data) {
  auto tiers = gui::InitialTiers(data.profile);
  tiers[0].capacity_bytes /= 2;  // a move of the slider
  const auto start = Clock::now();
  gui::WhatIfResult r = gui::Replan(data, tiers);
  std::printf("replan %-10s %8d sites  %7.3f s  %s\n", what, data.profile.sites_size(),
              Seconds(start), r.data ? "ok" : qPrintable(r.error));
}

void PrintMap(const gui::AddressMapData& m) {
  const double map_mib = double(m.cells.size() * sizeof(gui::AddressCell) +
                                m.blocks.size() * sizeof(gui::AddressBlock) +
                                m.spans.size() * sizeof(gui::AddressSpan)) /
                         (1 << 20);
  std::printf(
      "address map: %zu cells of 2^%d B x %d bins, %zu blocks >= %llu B, %zu spans, %llu samples; "
      "%.1f MiB kept\n",
      m.cells.size(), m.cell_shift, m.time_bins, m.blocks.size(),
      static_cast<unsigned long long>(m.min_block_bytes), m.spans.size(),
      static_cast<unsigned long long>(m.samples), map_mib);
}

}  // namespace

int main(int argc, char** argv) {
  const bool no_map = argc > 1 && std::string(argv[1]) == "--no-map";
  if (argc < 2 + no_map) {
    std::fprintf(stderr, "usage: %s TRACE [PROFILE] | --no-map TRACE\n", argv[0]);
    return 2;
  }
  const std::string trace = argv[1 + no_map];
  gui::AddressMapBuilder map;
  analyzer::AnalyzeOptions options;
  if (!no_map) options.observer = &map;
  const auto start = Clock::now();
  analyzer::AnalyzeResult analyzed = analyzer::AnalyzeTrace(trace, options);
  if (analyzed.error && !analyzed.error->KeepsEarlierChunks()) {
    std::fprintf(stderr, "%s\n", analyzed.error->Message().c_str());
    return 1;
  }
  std::printf("%s  %7.3f s  peak RSS %ld MiB  (%d sites)\n",
              no_map ? "analyze alone" : "analyze + address map (one pass)", Seconds(start),
              PeakRssMiB(), analyzed.profile.sites_size());
  if (no_map) return 0;
  PrintMap(map.Finish());

  auto data = gui::ProfileSource::FromProfile(std::move(analyzed.profile));
  TimeReplan("trace", *data);
  if (argc > 2) {
    gui::LoadResult loaded = gui::ProfileSource::Open(argv[2]);
    if (!loaded.data) {
      std::fprintf(stderr, "%s\n", qPrintable(loaded.error));
      return 1;
    }
    TimeReplan("profile", *loaded.data);
  }
  return 0;
}
