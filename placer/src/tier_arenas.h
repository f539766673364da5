// Each tier's jemalloc arenas carve their extents out of the tier's own slice of one big virtual
// reservation. The slice is mbind()-ed to the tier's nodes and madvise()-d for THP once, at
// creation: the kernel then places every page on first touch, the whole tier is one VMA whatever
// the extent count (vm.max_map_count never grows), and "which tier owns this pointer" is a
// subtraction and a shift (free() needs it to pick the tier's tcache).
//
// Budget guard: a slice hands out at most `capacity` bytes (plus a fixed allowance for each
// arena's own metadata, added as the arena is made); when it is used up the extent hook refuses,
// mallocx() returns NULL and the caller falls back to the next tier. Extents are never unmapped
// (jemalloc retains them and purges their pages with madvise), so addresses are never reused across
// tiers.
#pragma once

#include <jemalloc/jemalloc.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tierscope/placer/tier_spec.h"

namespace tierscope::placer {

constexpr int kMaxTiers = 8;
// Arenas per tier: threads spread over them like over jemalloc's own arenas, so a tier's bins
// are not one lock for every thread.
constexpr int kMaxArenasPerTier = 16;
// Sites of a plan with a quota (Assignment.quota_bytes) the placer enforces; the planner's others
// keep whole-site placement (said once).
constexpr int kMaxQuotas = 16;
// The quota page map's granule: jemalloc's extents are whole pages (4 KiB or a multiple).
constexpr int kQuotaPageShift = 12;

struct TierSlice {
  extent_hooks_t hooks;  // first: jemalloc hands this pointer back to the hooks
  uintptr_t base = 0;
  // base + budget; budget and limit grow by kMetadataAllowance with each arena made.
  std::atomic<uintptr_t> limit{0};
  std::atomic<uintptr_t> next{0};
  std::atomic<uint64_t> refused{0};  // extent requests refused by the budget
  // The program's own mappings placed on this tier (mmap from a planned site): they live
  // outside the slice but count against the same budget.
  std::atomic<uint64_t> mapped{0};
  std::atomic<uint64_t> budget{0};  // capacity + metadata allowances; 0: no limit
  // The tier's memory policy, kept so a mapping can be bound without building anything.
  int mode = 0;
  unsigned long nodemask[16] = {};
  bool huge_pages = false;
  // 0 until made: the first at start, the others when a thread first needs them (an arena costs
  // ~0.4 ms to make here; 16 per tier were most of a short program's start on a large machine).
  std::atomic<unsigned> arenas[kMaxArenasPerTier] = {};
  int arena_count = 0;  // arenas the threads spread over (made or not)
};

// A quota site's arena (allocation_path.h, "Quotas"): its extents come from its tier's slice (same
// budget, same binding) and are marked with the quota in the page map as they are handed out.
struct QuotaHooks {
  extent_hooks_t hooks;  // first: jemalloc hands this pointer back to the hooks
  TierSlice* slice = nullptr;
  uint8_t* pages = nullptr;  // the page map
  uintptr_t base = 0;        // of the whole reservation
  uint8_t mark = 0;          // quota id + 1
};

class TierArenas {
 public:
  // Reserves and binds the slices and makes each tier's first arena (the others: arena()).
  // False and one line in *error on failure (then nothing is usable and the caller keeps default
  // placement). `per_tier`: arenas per tier, 0 = 2 x CPUs (capped at kMaxArenasPerTier).
  bool Create(const std::vector<TierSpec>& tiers, std::string* error, int per_tier = 0);

  int count() const { return count_; }
  // Tier index of a pointer, -1 when it is not from a tier arena.
  int TierOf(const void* p) const {
    const uintptr_t off = reinterpret_cast<uintptr_t>(p) - base_;
    return off < total_ ? static_cast<int>(off >> shift_) : -1;
  }
  unsigned arena(int tier) const { return slices_[tier].arenas[0].load(std::memory_order_acquire); }
  // The arena of `tier` for a thread with the spreading index `pick`, made on first use. Calls
  // jemalloc's arenas.create then: from the allocation path's set-up, as tcache.create is.
  unsigned arena(int tier, unsigned pick) {
    TierSlice& s = slices_[tier];
    const int i = static_cast<int>(pick % static_cast<unsigned>(s.arena_count));
    const unsigned a = s.arenas[i].load(std::memory_order_acquire);
    return a != 0 ? a : MakeArena(tier, i);
  }
  const TierSlice& slice(int tier) const { return slices_[tier]; }
  // An arena on `tier` for quota `quota` (< kMaxQuotas) whose extents are marked in the page map.
  // False when jemalloc refuses one (the site then keeps whole-site placement). At start only.
  bool CreateQuotaArena(int tier, int quota, unsigned* arena);
  // The quota a block of a tier (TierOf(p) >= 0) counted against, -1 for none. Only valid once
  // a quota arena exists (the page map is made with the first one). Extents are never given
  // back, so a page's mark never changes.
  int QuotaOf(const void* p) const {
    return int(quota_pages_[(reinterpret_cast<uintptr_t>(p) - base_) >> kQuotaPageShift]) - 1;
  }
  // Takes `len` bytes of the tier's budget for a mapping; false (counted as a refusal) when
  // they do not fit. Release() gives them back.
  bool Charge(int tier, uint64_t len);
  // For bytes already on the tier (a placed mapping that mremap moved): no budget check.
  void ChargeAnyway(int tier, uint64_t len) {
    slices_[tier].mapped.fetch_add(len, std::memory_order_relaxed);
  }
  // In a forked child: the refusals counted so far are the parent's.
  void ResetRefusals(int tier) { slices_[tier].refused.store(0, std::memory_order_relaxed); }
  void Release(int tier, uint64_t len) {
    slices_[tier].mapped.fetch_sub(len, std::memory_order_relaxed);
  }
  // Binds [addr, addr + len) to the tier's nodes with its policy and THP advice. `move`: pages
  // already there migrate (MAP_POPULATE). No allocation: callable from the mmap hook.
  bool BindRange(int tier, void* addr, size_t len, bool move) const;
  // Bytes of the tier's budget neither carved for extents nor charged (UINT64_MAX: no limit).
  uint64_t Room(int tier) const {
    const TierSlice& s = slices_[tier];
    const uint64_t budget = s.budget.load(std::memory_order_relaxed);
    if (budget == 0) return UINT64_MAX;
    const uint64_t used = used_bytes(tier) + s.mapped.load(std::memory_order_relaxed);
    return budget > used ? budget - used : 0;
  }
  uint64_t used_bytes(int tier) const {
    return slices_[tier].next.load(std::memory_order_relaxed) - slices_[tier].base;
  }

 private:
  // Makes arena `i` of `tier` (another thread may win the race: its arena is kept, ours idles);
  // when jemalloc refuses, the tier's first arena takes the slot.
  unsigned MakeArena(int tier, int i);
  // Room in a budgeted slice for one more arena's metadata (within its address space).
  void AllowMetadata(TierSlice& s) const;

  TierSlice slices_[kMaxTiers];
  QuotaHooks quota_hooks_[kMaxQuotas];
  uint8_t* quota_pages_ = nullptr;  // one byte per 4 KiB of the reservation: quota id + 1, or 0
  int count_ = 0;
  uintptr_t base_ = 0;
  uintptr_t total_ = 0;
  int shift_ = 0;
};

// The jemalloc arena metadata (per arena) that lives in a tier's slice besides user extents.
constexpr uint64_t kMetadataAllowance = 4ull << 20;  // per arena

}  // namespace tierscope::placer
