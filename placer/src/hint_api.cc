// The hint API (tierscope/placer.h): explicit intent, through the same budget guard as the plan.
#include "tierscope/placer.h"

#include "allocation_path.h"

#define TS_EXPORT extern "C" __attribute__((visibility("default")))

namespace tierscope::placer {
int TierByName(const char* name);
}

using namespace tierscope::placer;

namespace {

void* HintAlloc(int tier, size_t size) {
  if (size == 0) size = 1;
  if (!g_state.tiers_ready || tier < 0 || tier >= g_state.arenas.count()) {
    return AllocWithFlags(size, DefaultFlags());
  }
  Bump(Counters().hints[tier], 1);
  return TierAlloc(tier, size, 0);
}

}  // namespace

TS_EXPORT void* ts_malloc_hot(size_t size) {
  return HintAlloc(0, size);
}
TS_EXPORT void* ts_malloc_cold(size_t size) {
  return HintAlloc(g_state.tiers_ready ? g_state.arenas.count() - 1 : -1, size);
}
TS_EXPORT void* ts_malloc_tier(const char* tier, size_t size) {
  return HintAlloc(TierByName(tier), size);
}
TS_EXPORT void ts_free(void* p) {
  if (p) ReleaseBlock(p);
}
TS_EXPORT int ts_tier_of(const void* p) {
  return p ? g_state.arenas.TierOf(p) : -1;
}
