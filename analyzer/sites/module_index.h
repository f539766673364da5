// Maps absolute addresses to (module, ELF offset) with the trace's module maps, and classifies
// addresses that hit no allocation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trace.pb.h"

namespace tierscope::analyzer {

// [start, end) of the address space.
struct AddressRange {
  uint64_t start = 0, end = 0;
};

class ModuleIndex {
 public:
  // `thread_stacks`: the recorded threads' stacks (trace::Thread), which lie among the mappings.
  explicit ModuleIndex(const std::vector<trace::Module>& modules,
                       std::vector<AddressRange> thread_stacks = {});

  // Index into modules() of the module holding `address`, or -1.
  int Find(uint64_t address) const;
  const std::vector<trace::Module>& modules() const { return modules_; }

  // "globals" inside a module's segments; "stack" above every module (the main thread's stack
  // sits above all mappings in the x86-64 layout) or in a recorded thread's stack; "mapping"
  // between modules (mmap area: allocator-managed memory outside live blocks, untracked
  // mappings); "unknown" below them all (brk heap of unrecorded allocations).
  const char* Region(uint64_t address) const;

 private:
  struct Range {
    uint64_t start, end;
    int module;
  };
  std::vector<trace::Module> modules_;  // deduplicated by (path, load_bias)
  std::vector<Range> ranges_;           // sorted by start
  std::vector<AddressRange> stacks_;    // sorted by start, overlaps merged
  uint64_t lowest_ = UINT64_MAX, highest_ = 0;
};

}  // namespace tierscope::analyzer
