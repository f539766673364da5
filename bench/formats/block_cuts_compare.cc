// ts-block-cuts-compare TRACE... [--level N]: each trace's chunks compressed without and with a
// zstd block boundary at each column (formats/block_cuts.h), side by side in one run: the bytes
// and the compression time of each, and their ratios. The events are the trace's own, so the two
// sizes differ only by where blocks start. See docs/benchmarks.md ("Formats").
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tierscope/formats/block_cuts.h"
#include "tierscope/formats/trace_io.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tierscope::formats;
  int level = 1;  // the recorder's default
  std::vector<std::string> traces;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--level") {
      char* end = nullptr;
      const long value = i + 1 < argc ? std::strtol(argv[++i], &end, 10) : 0;
      if (end == nullptr || *end != '\0' || value < 1 || value > 19) {
        std::fprintf(stderr, "ts-block-cuts-compare: --level takes a zstd level, 1 to 19\n");
        return 2;
      }
      level = static_cast<int>(value);
    } else {
      traces.push_back(arg);
    }
  }
  if (traces.empty()) {
    std::fprintf(stderr, "usage: ts-block-cuts-compare TRACE... [--level N]\n");
    return 2;
  }
  std::printf(
      "| trace | raw MB | blocks of 128 KiB, MB | blocks per column, MB | size | compress time "
      "|\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (const std::string& path : traces) {
    try {
      TraceReader reader(path);
      ContainerWriter one("/dev/null", FileKind::kTrace, level);
      ContainerWriter cut("/dev/null", FileKind::kTrace, level);
      tierscope::trace::TraceChunk chunk;
      std::string raw;
      std::vector<size_t> cuts;
      uint64_t raw_bytes = 0, one_bytes = 0, cut_bytes = 0;
      double one_s = 0, cut_s = 0;
      while (reader.Next(&chunk)) {
        raw.clear();
        chunk.SerializeToString(&raw);
        raw_bytes += raw.size();
        auto start = Clock::now();
        one_bytes += one.Append(raw).compressed_size;
        one_s += Seconds(start);
        start = Clock::now();
        BlockCuts(raw, &cuts);
        cut_bytes += cut.Append(raw, cuts).compressed_size;
        cut_s += Seconds(start);
      }
      if (reader.error()) {
        std::fprintf(stderr, "ts-block-cuts-compare: %s\n", reader.error()->Message().c_str());
        return 1;
      }
      std::printf("| %s | %.2f | %.3f | %.3f | %+.1f%% | %.3f s → %.3f s (%+.0f%%) |\n",
                  path.c_str(), raw_bytes / 1e6, one_bytes / 1e6, cut_bytes / 1e6,
                  100.0 * cut_bytes / one_bytes - 100, one_s, cut_s,
                  one_s > 0 ? 100.0 * cut_s / one_s - 100 : 0.0);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ts-block-cuts-compare: %s: %s\n", path.c_str(), e.what());
      return 1;
    }
  }
  return 0;
}
