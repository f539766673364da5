// ts-placer-probe: links libtierscope-placer.so (no LD_PRELOAD needed) and reports where its
// allocations went: for each site, the placer's tier (ts_tier_of) and jemalloc's own answer
// (arenas.lookup), so a test can check the plan against the allocator, not against the placer;
// and the kernel's memory policy of the block (get_mempolicy), which is what places its pages.
#include <jemalloc/jemalloc.h>
#include <numaif.h>
#include <sys/mman.h>

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

int PolicyOf(void* p) {
  int mode = -1;
  unsigned long mask[16] = {};
  return get_mempolicy(&mode, mask, 1024, p, MPOL_F_ADDR) == 0 ? mode : -1;
}

// `last`: the block's last byte is the one whose policy is reported (the end of a grown block).
// `heap`: from malloc (jemalloc's arenas.lookup is only defined for its own pointers).
void Report(const char* what, void* p, size_t last = 0, bool heap = true) {
  std::memset(p, 1, 64);
  char* end = static_cast<char*>(p) + last;
  *end = 1;
  std::printf("%s tier=%d arena=%u policy=%d\n", what, ts_tier_of(p), heap ? ArenaOf(p) : ~0u,
              PolicyOf(end));
}

constexpr size_t kMiB = size_t{1} << 20;

}  // namespace

// Two sites with their own frames: the plan routes them to different tiers.
extern "C" __attribute__((noinline)) void* probe_site_a(size_t n) {
  return std::malloc(n);
}
extern "C" __attribute__((noinline)) void* probe_site_b(size_t n) {
  return std::calloc(1, n);
}
// Large blocks: a big malloc (jemalloc's huge sizes) and the program's own anonymous mappings.
extern "C" __attribute__((noinline)) void* probe_site_big(size_t n) {
  return std::malloc(n);
}
extern "C" __attribute__((noinline)) void* probe_site_map(size_t n) {
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}
extern "C" __attribute__((noinline)) void* probe_site_map_unplanned(size_t n) {
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
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
  // 64 MiB from one site, grown to 160 MiB: the grown block is still on the site's tier.
  void* big = probe_site_big(64 * kMiB);
  Report("big", big, 64 * kMiB - 1);
  void* big_grown = std::realloc(big, 160 * kMiB);
  Report("big_realloc", big_grown, 160 * kMiB - 1);
  // An 8 MiB mapping grown to 32 MiB by mremap (moved or not), then its first 4 MiB unmapped:
  // 28 MiB of it stay mapped until exit, for the stats.
  void* map = probe_site_map(8 * kMiB);
  Report("map", map, 8 * kMiB - 1, false);
  void* moved = mremap(map, 8 * kMiB, 32 * kMiB, MREMAP_MAYMOVE);
  Report("map_mremap", moved, 32 * kMiB - 1, false);
  munmap(moved, 4 * kMiB);
  void* other = probe_site_map_unplanned(8 * kMiB);
  Report("map_unplanned", other, 8 * kMiB - 1, false);
  munmap(other, 8 * kMiB);
  std::free(big_grown);
  ts_free(hot);
  ts_free(cold);
  std::free(named);
  std::free(unknown);
  std::free(grown);
  std::free(b);
  return 0;
}
