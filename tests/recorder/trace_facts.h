// A recorded trace read back through the formats library, reduced to what tests check.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tierscope/formats/alloc_columns.h"
#include "trace.pb.h"

namespace tierscope::testing {

struct TraceFacts {
  bool has_header = false;
  trace::Header header;
  std::map<trace::EventKind, uint64_t> events;         // by kind
  std::map<trace::EventKind, uint64_t> events_in_exe;  // frames[0] inside the main executable
  std::map<uint32_t, std::vector<uint64_t>> stacks;
  std::set<uint32_t> tids_with_events;
  // The writer makes one alloc batch per thread per chunk, and a thread's events go on in time
  // from one batch to the next.
  uint64_t chunks_with_a_thread_twice = 0;
  uint64_t batches_going_back_in_time = 0;
  std::map<uint32_t, trace::Thread> threads;  // last message per tid wins
  std::vector<trace::ModuleMap> module_maps;
  trace::Counters counters;
  bool has_footer = false;
  trace::Footer footer;
  std::string error;  // damage found while reading, or a broken promise of the writer
  uint64_t total_events = 0;

  uint64_t Count(trace::EventKind k) const {
    auto it = events.find(k);
    return it == events.end() ? 0 : it->second;
  }
  uint64_t CountInExe(trace::EventKind k) const {
    auto it = events_in_exe.find(k);
    return it == events_in_exe.end() ? 0 : it->second;
  }
  // Allocation events (of `kind`, or any when EVENT_UNKNOWN) whose frames[0] lies in a module
  // whose path contains `module` in any module map.
  uint64_t allocs_in_module(const std::string& module) const {
    return in_module_.count(module) ? in_module_.at(module) : 0;
  }
  std::map<std::string, uint64_t> in_module_;
};

// Reads the whole trace; checks along the way that every stack id used was defined before.
TraceFacts ReadTraceFacts(const std::string& path, const std::vector<std::string>& modules = {});

// The allocator events at one address, with their thread, in the order of the file.
struct EventAt {
  uint32_t tid = 0;
  formats::AllocEvent event;
};
std::vector<EventAt> AllocEventsAt(const std::string& path, uint64_t address);

// Parses "<prog> counts: malloc=N calloc=N ..." from an example's stderr.
std::map<std::string, uint64_t> ParseExampleCounts(const std::string& err);

}  // namespace tierscope::testing
