// Traces for the viewer's tests, written with formats' TraceWriter and batch builders (the one
// writer): a small key-value store shape with known addresses, so the address map and the
// analysis can be asserted exactly.
#pragma once

#include <cstdint>
#include <string>

namespace tierscope::gui::testing {

// Two threads over one simulated second:
//  - an index of kIndexBytes at kIndexAddress (an mmap far above the heap), never freed, with
//    most of the load samples;
//  - `values` value blocks of 4 KiB per thread in the heap at kHeapBase, each freed 10 ms later,
//    with a few store samples;
// one chunk per batch of at most 4096 events. `values` scales the trace for the cancel test.
inline constexpr uint64_t kIndexAddress = 0x7f0000000000;
inline constexpr uint64_t kIndexBytes = 4 << 20;
inline constexpr uint64_t kHeapBase = 0x555500000000;
inline constexpr uint64_t kTraceStartNs = 1000000000;
inline constexpr uint64_t kIndexSamples = 1000;

void WriteKvTrace(const std::string& path, int values = 200);

// A copy of the trace `from` whose bytes [16, 40) are garbage: its header still reads, its first
// chunk does not. False when `from` cannot be read or `to` written.
bool WriteDamagedCopy(const std::string& from, const std::string& to);

}  // namespace tierscope::gui::testing
