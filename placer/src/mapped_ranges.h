// The program's own anonymous mappings that the placer bound to a tier (mmap from a planned
// site), so munmap/mremap can give their bytes back to the tier's budget. Kept in the placer's
// own memory, with a fixed capacity: when it is full a mapping is simply not placed.
//
// A small spin lock guards the table. It is taken only around mmap/munmap/mremap of the program
// (never on the malloc path) and only once a mapping was placed; those calls already serialize
// on the kernel's mmap lock, so the table adds no new serialization. munmap holds it across the
// system call so that an address cannot be unmapped, mapped again and registered by another
// thread before its old entry is forgotten.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tier_arenas.h"

namespace tierscope::placer {

struct MappedRange {
  uintptr_t start = 0, end = 0;
  int tier = -1;
};

class MappedRanges {
 public:
  static constexpr size_t kCapacity = 4096;

  bool Init();  // maps the table; false when out of memory
  bool empty() const { return count_.load(std::memory_order_acquire) == 0; }

  // Both need the lock.
  bool Add(uintptr_t start, size_t len, int tier);  // false when the table is full
  // Forgets [start, start + len) (whole entries, parts, or nothing) and adds the forgotten bytes
  // of each tier to released[tier]. Returns the tier that held the most of them, or -1.
  int Remove(uintptr_t start, size_t len, uint64_t released[kMaxTiers]);

  void Lock();
  void Unlock() { lock_.store(false, std::memory_order_release); }
  size_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  MappedRange* ranges_ = nullptr;
  std::atomic<size_t> count_{0};
  std::atomic<bool> lock_{false};
};

class MappedRangesLock {
 public:
  explicit MappedRangesLock(MappedRanges& r) : r_(r) { r_.Lock(); }
  ~MappedRangesLock() { r_.Unlock(); }

 private:
  MappedRanges& r_;
};

}  // namespace tierscope::placer
