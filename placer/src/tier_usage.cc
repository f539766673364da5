#include "tier_usage.h"

#include <fcntl.h>
#include <numaif.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>

#include "allocation_path.h"

namespace tierscope::placer {
namespace {

uint64_t ArenaStat(unsigned arena, const char* what) {
  char name[64];
  std::snprintf(name, sizeof(name), "stats.arenas.%u.%s", arena, what);
  size_t value = 0, len = sizeof(value);
  return mallctl(name, &value, &len, nullptr, 0) == 0 ? value : 0;
}

uint64_t ArenaLive(unsigned arena) {
  return ArenaStat(arena, "small.allocated") + ArenaStat(arena, "large.allocated");
}

// Pages of [base, base+len) per node, asked to the kernel (move_pages in query mode) for the
// resident ones only: mincore finds them in one call per batch, where move_pages looks each page
// up on its own (a footprint is mostly reserved, untouched pages: 10 MB for /bin/true, 2560 pages
// to look up at every exit where 90 are resident).
void AddResidentByNode(uintptr_t base, uintptr_t len, std::map<int, uint64_t>* pages) {
  const long page = sysconf(_SC_PAGESIZE);
  constexpr size_t kBatch = 1024;
  unsigned char resident[kBatch];
  void* addrs[kBatch];
  int status[kBatch];
  for (uintptr_t a = base; a < base + len;) {
    const size_t span = std::min<uintptr_t>(kBatch, (base + len - a) / page);
    if (span == 0) break;
    if (mincore(reinterpret_cast<void*>(a), span * page, resident) != 0) {
      std::fill_n(resident, span, 1);  // unknown: ask move_pages for each
    }
    size_t n = 0;
    for (size_t i = 0; i < span; ++i) {
      if (resident[i] & 1) addrs[n++] = reinterpret_cast<void*>(a + i * page);
    }
    a += span * page;
    if (n == 0) continue;
    if (move_pages(0, n, addrs, nullptr, status, 0) != 0) break;
    for (size_t i = 0; i < n; ++i) {
      if (status[i] >= 0) (*pages)[status[i]] += page;
    }
  }
}

}  // namespace

void RefreshAllocatorStats() {
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
}

namespace {

// FreezeUsageForExit's reading: frozen_tiers > 0 once taken (published with release: the timeline's
// thread may read it meanwhile). On the heap and never destroyed: the exit path may run after this
// library's static destructors.
TierUsage* frozen_usage = nullptr;
std::atomic<int> frozen_tiers{0};
uint64_t frozen_allocated = 0;

}  // namespace

TierUsage UsageOf(int tier) {
  if (tier < frozen_tiers.load(std::memory_order_acquire)) return frozen_usage[tier];
  TierUsage usage;
  const TierSlice& slice = g_state.arenas.slice(tier);
  for (int a = 0; a < slice.arena_count; ++a) {
    const unsigned arena = slice.arenas[a].load(std::memory_order_acquire);
    // Not made (no thread needed it), or the first arena standing in where jemalloc refused one.
    if (arena == 0 || (a > 0 && arena == slice.arenas[0].load(std::memory_order_acquire))) continue;
    usage.live_bytes += ArenaLive(arena);
    usage.arenas.push_back(arena);
  }
  for (int q = 0; q < g_state.quota_count; ++q) {  // a quota site's arena is one of its tier's
    if (g_state.quotas[q].tier != tier) continue;
    usage.live_bytes += ArenaLive(g_state.quotas[q].arena);
    usage.arenas.push_back(g_state.quotas[q].arena);
  }
  usage.footprint_bytes = g_state.arenas.used_bytes(tier);
  usage.mapped_bytes = slice.mapped.load();
  AddResidentByNode(slice.base, usage.footprint_bytes, &usage.resident_by_node);
  for (const auto& [node, bytes] : usage.resident_by_node) usage.resident_bytes += bytes;
  return usage;
}

uint64_t AllocatedBytes() {
  if (frozen_tiers.load(std::memory_order_acquire) > 0) return frozen_allocated;
  size_t value = 0, len = sizeof(value);
  return mallctl("stats.allocated", &value, &len, nullptr, 0) == 0 ? value : 0;
}

void FreezeUsageForExit() {
  if (!g_state.tiers_ready || frozen_tiers.load(std::memory_order_relaxed) > 0) return;
  RefreshAllocatorStats();
  const int count = g_state.arenas.count();
  frozen_usage = new TierUsage[count];
  for (int i = 0; i < count; ++i) frozen_usage[i] = UsageOf(i);
  frozen_allocated = AllocatedBytes();
  frozen_tiers.store(count, std::memory_order_release);
}

uint64_t ProcessRss() {
  // read(2), not a stream: the timeline calls this from its own thread without allocating.
  const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[128];
  const ssize_t n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(text, "%llu %llu", &size, &resident) != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace tierscope::placer
