// Learning mode (TIERSCOPE_PLACER_SITES): the sites a run allocated from, as (module, offset)
// frames with counts. The site cache counts per raw stack; its counts are folded in here, with the
// module table of the moment, before a dlclose invalidates the cache and at exit, so sites of
// unloaded libraries keep their module names. Only touched under the miss lock or at exit.
#pragma once

#include <cstdint>

#include "module_table.h"
#include "site_cache.h"

namespace tierscope::placer {

struct LearnedModule {
  uint64_t identity = 0;
  uint8_t build_id_len = 0;
  uint8_t build_id[32] = {};
  char path[240] = {};
};

struct LearnedSite {
  uint64_t key = 0;  // HashKey of the frames; 0: empty
  int depth = 0;
  uint16_t module[kMaxDepth] = {};  // index into the modules; 0xFFFF: no module
  uint64_t offset[kMaxDepth] = {};
  uint64_t allocs = 0, bytes = 0;
};

class LearnedSites {
 public:
  static constexpr size_t kSites = size_t{1} << 16;
  static constexpr size_t kModules = 4096;
  bool Init();
  // Moves every cache slot's counts in (and zeroes them in the cache).
  void Fold(SiteCache& cache, const ModuleTable& modules);
  size_t module_count() const { return module_count_; }
  const LearnedModule& module(size_t i) const { return modules_[i]; }
  const LearnedSite& site(size_t i) const { return sites_[i]; }

 private:
  uint16_t ModuleIndex(const Module& m);
  LearnedSite* sites_ = nullptr;
  LearnedModule* modules_ = nullptr;
  size_t module_count_ = 0;
};

}  // namespace tierscope::placer
