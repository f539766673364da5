// gui_open_bench TRACE [PROFILE]: the steps of opening a trace in tierscope-gui, timed one by
// one (the analyzer's AnalyzeTrace, the address map pass), the address map's size against its
// bounds, peak RSS after each step, and one what-if re-plan of the analyzed profile (and of
// PROFILE when given, e.g. a 100k-site one from ts-gui-genprofile).
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TRACE [PROFILE] | --map-only TRACE\n", argv[0]);
    return 2;
  }
  // --map-only: the address map pass alone, so peak RSS is its own and not the analyzer's.
  const bool map_only = std::string(argv[1]) == "--map-only";
  if (map_only && argc < 3) {
    std::fprintf(stderr, "usage: %s --map-only TRACE\n", argv[0]);
    return 2;
  }
  const std::string trace = argv[map_only ? 2 : 1];
  auto start = Clock::now();
  if (map_only) {
    gui::AddressMapResult map = gui::BuildAddressMap(trace, {}, nullptr, {});
    std::printf("address map  %7.3f s  peak RSS %ld MiB  (%zu cells, %zu blocks)\n", Seconds(start),
                PeakRssMiB(), map.map.cells.size(), map.map.blocks.size());
    return 0;
  }
  analyzer::AnalyzeResult analyzed = analyzer::AnalyzeTrace(trace);
  if (analyzed.error && !analyzed.error->KeepsEarlierChunks()) {
    std::fprintf(stderr, "%s\n", analyzed.error->Message().c_str());
    return 1;
  }
  std::printf("analyze      %7.3f s  peak RSS %ld MiB  (%d sites)\n", Seconds(start), PeakRssMiB(),
              analyzed.profile.sites_size());

  gui::AddressMapOptions options;
  options.duration_ns = analyzed.profile.metadata().duration_ns();
  start = Clock::now();
  gui::AddressMapResult map = gui::BuildAddressMap(trace, options, nullptr, {});
  const gui::AddressMapData& m = map.map;
  const double map_mib = double(m.cells.size() * sizeof(gui::AddressCell) +
                                m.blocks.size() * sizeof(gui::AddressBlock) +
                                m.spans.size() * sizeof(gui::AddressSpan)) /
                         (1 << 20);
  std::printf(
      "address map  %7.3f s  peak RSS %ld MiB  (%zu cells of 2^%d B x %d bins, %zu blocks "
      ">= %llu B, %zu spans, %llu samples; %.1f MiB kept)\n",
      Seconds(start), PeakRssMiB(), m.cells.size(), m.cell_shift, m.time_bins, m.blocks.size(),
      static_cast<unsigned long long>(m.min_block_bytes), m.spans.size(),
      static_cast<unsigned long long>(m.samples), map_mib);

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
