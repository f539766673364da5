// One jemalloc arena per tier, each carving its extents out of its own slice of one big virtual
// reservation. The slice is mbind()-ed to the tier's nodes and madvise()-d for THP once, at
// creation: the kernel then places every page on first touch, the whole tier is one VMA whatever
// the extent count (vm.max_map_count never grows), and "which tier owns this pointer" is a
// subtraction and a shift (free() needs it to pick the tier's tcache).
//
// Budget guard: a slice hands out at most `capacity` bytes (plus a fixed allowance for the
// arena's own metadata); when it is used up the extent hook refuses, mallocx() returns NULL and
// the caller falls back to the next tier. Extents are never unmapped (jemalloc retains them and
// purges their pages with madvise), so addresses are never reused across tiers.
#pragma once

#include <jemalloc/jemalloc.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tierscope/placer/tier_spec.h"

namespace tierscope::placer {

constexpr int kMaxTiers = 8;

struct TierSlice {
  extent_hooks_t hooks;  // first: jemalloc hands this pointer back to the hooks
  uintptr_t base = 0;
  uintptr_t limit = 0;  // base + budget
  std::atomic<uintptr_t> next{0};
  std::atomic<uint64_t> refused{0};  // extent requests refused by the budget
  unsigned arena = 0;
};

class TierArenas {
 public:
  // Reserves, binds and creates the arenas. False and one line in *error on failure (then
  // nothing is usable and the caller keeps default placement).
  bool Create(const std::vector<TierSpec>& tiers, std::string* error);

  int count() const { return count_; }
  // Tier index of a pointer, -1 when it is not from a tier arena.
  int TierOf(const void* p) const {
    const uintptr_t off = reinterpret_cast<uintptr_t>(p) - base_;
    return off < total_ ? static_cast<int>(off >> shift_) : -1;
  }
  unsigned arena(int tier) const { return slices_[tier].arena; }
  const TierSlice& slice(int tier) const { return slices_[tier]; }
  uint64_t used_bytes(int tier) const {
    return slices_[tier].next.load(std::memory_order_relaxed) - slices_[tier].base;
  }

 private:
  TierSlice slices_[kMaxTiers];
  int count_ = 0;
  uintptr_t base_ = 0;
  uintptr_t total_ = 0;
  int shift_ = 0;
};

// The jemalloc arena metadata that lives in a tier's slice besides user extents.
constexpr uint64_t kMetadataAllowance = 4ull << 20;

}  // namespace tierscope::placer
