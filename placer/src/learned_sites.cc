#include "learned_sites.h"

#include <cstring>

#include "mapped_arrays.h"

namespace tierscope::placer {

bool LearnedSites::Init() {
  sites_ = MapArray<LearnedSite>(kSites);
  modules_ = MapArray<LearnedModule>(kModules);
  return sites_ && modules_;
}

uint16_t LearnedSites::ModuleIndex(const Module& m) {
  for (size_t i = 0; i < module_count_; ++i) {
    if (modules_[i].identity == m.identity && std::strcmp(modules_[i].path, m.path) == 0) {
      return static_cast<uint16_t>(i);
    }
  }
  if (module_count_ == kModules) return 0xFFFF;
  LearnedModule& l = modules_[module_count_];
  l.identity = m.identity;
  l.build_id_len = m.build_id_len;
  std::memcpy(l.build_id, m.build_id, sizeof(l.build_id));
  std::memcpy(l.path, m.path, sizeof(l.path));
  return static_cast<uint16_t>(module_count_++);
}

void LearnedSites::Fold(SiteCache& cache, const ModuleTable& modules) {
  for (size_t slot = 0; slot < SiteCache::kSlots; ++slot) {
    if (cache.entry(slot) == 0) continue;
    const uint64_t allocs = cache.TakeAllocs(slot), bytes = cache.TakeBytes(slot);
    if (allocs == 0) continue;
    const int depth = cache.depth(slot);
    ModuleOffset frames[kMaxDepth];
    uint16_t index[kMaxDepth];
    for (int d = 0; d < depth; ++d) {
      const uintptr_t address = cache.frames(slot)[d];
      const Module* m = modules.Find(address);
      frames[d] = m ? ModuleOffset{m->identity, address - m->bias} : ModuleOffset{0, address};
      index[d] = m ? ModuleIndex(*m) : 0xFFFF;
    }
    const uint64_t key = HashKey(frames, depth) | 1;
    for (size_t i = key & (kSites - 1), probes = 0; probes < kSites;
         i = (i + 1) & (kSites - 1), ++probes) {
      LearnedSite& s = sites_[i];
      if (s.key == 0) {
        s.key = key;
        s.depth = depth;
        for (int d = 0; d < depth; ++d) {
          s.module[d] = index[d];
          s.offset[d] = frames[d].offset;
        }
      }
      if (s.key == key) {
        s.allocs += allocs;
        s.bytes += bytes;
        break;
      }
    }
  }
}

}  // namespace tierscope::placer
