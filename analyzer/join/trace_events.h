// Reads a whole trace into time order. Batches of different threads arrive out of time order
// (a thread's buffer is flushed when full or at exit); each thread's own events are in order, so
// a stable sort by time restores the program's order without reordering any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tierscope/formats/container.h"
#include "trace.pb.h"

namespace tierscope::analyzer {

struct JoinEvent {
  uint64_t time_ns;
  uint64_t address;
  uint64_t size;      // allocation/unmap size; sample weight for samples
  uint32_t stack_id;  // allocations only
  uint16_t kind;      // trace::EventKind, or kSampleKind
  uint8_t access;     // trace::AccessKind for samples
  uint8_t source;     // trace::SamplerKind for samples
};
inline constexpr uint16_t kSampleKind = 0xffff;

struct TraceContents {
  trace::Header header;
  std::vector<trace::Module> modules;  // every module seen, latest map last
  std::unordered_map<uint32_t, trace::Stack> stacks;
  std::vector<JoinEvent> events;  // in time order; at equal times, allocator events first
  trace::Counters counters;
  bool has_footer = false;
  trace::Footer footer;
  std::optional<formats::FormatError> error;  // damage; everything before it is kept
  bool cancelled = false;
};

struct LoadOptions {
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(double)> progress;
};

TraceContents LoadTrace(const std::string& path, const LoadOptions& options = {});

}  // namespace tierscope::analyzer
