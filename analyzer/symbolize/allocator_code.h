// The code of the program's memory allocator among a trace's modules: every function of an
// allocator library (jemalloc, tcmalloc, mimalloc) and glibc's malloc implementation inside libc
// (from libc's symbol table, read through ElfModule; its static functions such as _int_malloc need
// the detached debug symbols, libc6-dbg, else only the exported entry points are known). A sample
// that hits no live block, taken with its instruction pointer in that code, is the allocator
// touching its own memory — chunk headers, free lists, freed blocks — not the program's data: the
// join counts it in region "allocator" rather than "mapping" or "unknown".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trace.pb.h"

namespace tierscope::analyzer {

class AllocatorCode {
 public:
  // Reads libc's symbol table from the file at its recorded path (only when its build-id is the
  // recorded one). `sysroot` is prefixed to the path.
  explicit AllocatorCode(const std::vector<trace::Module>& modules,
                         const std::string& sysroot = "");

  bool Contains(uint64_t ip) const;
  bool empty() const { return ranges_.empty(); }

  // glibc's malloc implementation, by symbol name (".constprop.0" and the like stripped).
  static bool IsMallocFunction(std::string name);

 private:
  struct Range {
    uint64_t start, end;
  };
  void AddLibcFunctions(const trace::Module& libc, const std::string& sysroot);
  std::vector<Range> ranges_;  // sorted by start after construction
};

}  // namespace tierscope::analyzer
