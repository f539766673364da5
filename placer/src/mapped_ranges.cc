#include "mapped_ranges.h"

#include <sched.h>

#include "mapped_arrays.h"

namespace tierscope::placer {

bool MappedRanges::Init() {
  ranges_ = MapArray<MappedRange>(kCapacity);
  return ranges_ != nullptr;
}

void MappedRanges::Lock() {
  for (int spins = 0; lock_.exchange(true, std::memory_order_acquire); ++spins) {
    // The holder is inside a system call: let it run rather than burn its core.
    if (spins > 64) sched_yield();
  }
}

bool MappedRanges::Add(uintptr_t start, size_t len, int tier) {
  const size_t n = count_.load(std::memory_order_relaxed);
  if (ranges_ == nullptr || n == kCapacity || len == 0) return false;
  ranges_[n] = {start, start + len, tier};
  count_.store(n + 1, std::memory_order_release);
  return true;
}

int MappedRanges::Remove(uintptr_t start, size_t len, uint64_t released[kMaxTiers]) {
  const uintptr_t end = start + len;
  uint64_t most = 0;
  int most_tier = -1;
  size_t n = count_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < n;) {
    MappedRange& r = ranges_[i];
    if (r.end <= start || r.start >= end) {
      ++i;
      continue;
    }
    const uintptr_t lo = r.start > start ? r.start : start;
    const uintptr_t hi = r.end < end ? r.end : end;
    released[r.tier] += hi - lo;
    if (hi - lo > most) {
      most = hi - lo;
      most_tier = r.tier;
    }
    const bool keep_head = r.start<lo, keep_tail = r.end> hi;
    if (keep_head && keep_tail) {
      // A hole in the middle: the tail becomes an entry of its own. With no room for it, its
      // bytes are released too (the budget errs on the generous side, never double-counts).
      const MappedRange tail{hi, r.end, r.tier};
      r.end = lo;
      if (n < kCapacity) {
        ranges_[n++] = tail;
      } else {
        released[r.tier] += tail.end - tail.start;
      }
      ++i;
    } else if (keep_head) {
      r.end = lo;
      ++i;
    } else if (keep_tail) {
      r.start = hi;
      ++i;
    } else {
      r = ranges_[--n];  // swap-remove; look at the moved entry next
    }
  }
  count_.store(n, std::memory_order_release);
  return most_tier;
}

}  // namespace tierscope::placer
