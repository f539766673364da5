// ts-placer-probe: links libtierscope-placer.so (no LD_PRELOAD needed) and reports where its
// allocations went: for each site, the placer's tier (ts_tier_of) and jemalloc's own answer
// (arenas.lookup), so a test can check the plan against the allocator, not against the placer.
#include <jemalloc/jemalloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tierscope/placer.h"

namespace {

unsigned ArenaOf(void* p) {
  unsigned arena = 0;
  size_t len = sizeof(arena);
  if (mallctl("arenas.lookup", &arena, &len, &p, sizeof(p)) != 0) return ~0u;
  return arena;
}

void Report(const char* what, void* p) {
  std::memset(p, 1, 64);
  std::printf("%s tier=%d arena=%u\n", what, ts_tier_of(p), ArenaOf(p));
}

}  // namespace

// Two sites with their own frames: the plan routes them to different tiers.
extern "C" __attribute__((noinline)) void* probe_site_a(size_t n) {
  return std::malloc(n);
}
extern "C" __attribute__((noinline)) void* probe_site_b(size_t n) {
  return std::calloc(1, n);
}

int main() {
  void* a = probe_site_a(1000);
  void* b = probe_site_b(100000);
  Report("site_a", a);
  Report("site_b", b);
  void* grown = std::realloc(a, 50000);  // a block stays on its tier when it grows
  Report("site_a_realloc", grown);
  void* hot = ts_malloc_hot(4096);
  void* cold = ts_malloc_cold(4096);
  void* named = ts_malloc_tier("slow", 4096);
  void* unknown = ts_malloc_tier("no-such-tier", 4096);
  Report("hint_hot", hot);
  Report("hint_cold", cold);
  Report("hint_slow", named);
  Report("hint_unknown", unknown);
  ts_free(hot);
  ts_free(cold);
  std::free(named);
  std::free(unknown);
  std::free(grown);
  std::free(b);
  return 0;
}
