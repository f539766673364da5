// The modules mapped in this process (dl_iterate_phdr), kept in the placer's own memory so a
// return address can be turned into (module identity, offset) on a cache miss. Refreshed when the
// loader's adds/subs counters move (dlopen / dlclose).
#pragma once

#include <cstddef>
#include <cstdint>

#include "site_hash.h"

namespace tierscope::placer {

struct Module {
  uintptr_t start = 0, end = 0;  // covering range of the PT_LOAD segments
  uintptr_t bias = 0;            // dlpi_addr: offset = address - bias
  uint64_t identity = 0;
  uint8_t build_id_len = 0;
  uint8_t build_id[32] = {};
  char path[240] = {};
};

class ModuleTable {
 public:
  static constexpr size_t kCapacity = 2048;
  bool Init();  // maps the table; false when out of memory
  // Re-reads the loader's list when it changed since the last call. True when it did.
  bool RefreshIfChanged();
  // Whether a library was unloaded since the last refresh (raw addresses may now mean another
  // module). Reads the loader's counters only; the table keeps its old content.
  bool UnloadedSinceRefresh() const;
  const Module* Find(uintptr_t address) const;
  ModuleOffset Translate(uintptr_t address) const;
  size_t size() const { return count_; }
  const Module& at(size_t i) const { return modules_[i]; }

 private:
  Module* modules_ = nullptr;
  size_t count_ = 0;
  unsigned long long adds_ = ~0ull, subs_ = ~0ull;
  char exe_[240] = {};
};

}  // namespace tierscope::placer
