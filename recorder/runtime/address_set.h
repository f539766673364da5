// Addresses of the blocks recorded in filtering modes (--alloc-sample-bytes, --min-size), so that
// only their releases are recorded. Lock-free open addressing in the recorder's own pages;
// erased entries become tombstones. When full, new blocks are simply not remembered (their
// release goes unrecorded, which the analyzer treats like a block alive at exit).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "kernel_pages.h"

namespace tierscope::recorder {

class AddressSet {
 public:
  bool Init(size_t slots) {  // a power of two
    mask_ = slots - 1;
    slots_ = static_cast<std::atomic<uint64_t>*>(RawMapTable(slots * sizeof(uint64_t)));
    counts_ = static_cast<std::atomic<uint8_t>*>(RawMap(kFilterCounts));
    return slots_ != nullptr && counts_ != nullptr;
  }
  void Insert(uint64_t address) {
    Count(address, +1);
    for (size_t probe = 0, i = Hash(address); probe < kMaxProbe; ++probe, i = (i + 1) & mask_) {
      uint64_t v = slots_[i].load(std::memory_order_relaxed);
      if ((v == kEmpty || v == kTomb) &&
          slots_[i].compare_exchange_strong(v, address, std::memory_order_relaxed)) {
        return;
      }
    }
    Count(address, -1);  // not remembered: its release is never looked up
  }
  // True when `address` was in the set (and removes it).
  bool Erase(uint64_t address) {
    // Most releases are of blocks never sampled: one counter in a 128 KiB filter says so without
    // touching the table.
    return MaybeHeld(address) && EraseFromTable(address);
  }
  // False when `address` is surely not in the set. The filter counts the addresses held per
  // counter (a counting Bloom filter with one hash): it forgets erased ones, so it does not fill
  // up over a long run (a bit filter whose bits were never cleared did: after enough sampled
  // blocks every release probed the table).
  bool MaybeHeld(uint64_t address) const {
    return counts_[FilterIndex(address)].load(std::memory_order_relaxed) != 0;
  }

 private:
  // Out of line: the filter's "no" (nearly every release) stays a few instructions.
  __attribute__((noinline)) bool EraseFromTable(uint64_t address) {
    for (size_t probe = 0, i = Hash(address); probe < kMaxProbe; ++probe, i = (i + 1) & mask_) {
      uint64_t v = slots_[i].load(std::memory_order_relaxed);
      if (v == kEmpty) return false;
      if (v == address) {
        if (!slots_[i].compare_exchange_strong(v, kTomb, std::memory_order_relaxed)) return false;
        Count(address, -1);
        return true;
      }
    }
    return false;
  }
  static constexpr uint64_t kEmpty = 0, kTomb = 1;
  static constexpr size_t kMaxProbe = 64;
  static constexpr uint64_t kFilterCounts = uint64_t{1} << 17;
  // A saturated counter stays saturated (it can no longer tell how many it holds): "maybe".
  static constexpr uint8_t kSaturated = 255;
  // By the address's 256-byte granule, not a hash of it: the blocks a thread frees lie near each
  // other (allocators hand out and take back neighbours), so their counters share a few cache
  // lines that stay close to the core, where a hashed index missed on nearly every release
  // (RecordRelease 4.0% -> 2.0% of the stress example's samples with --alloc-sample-bytes 524288).
  // Neighbours of a held block share its counter: their releases probe the table for nothing.
  static uint64_t FilterIndex(uint64_t a) { return (a >> 8) & (kFilterCounts - 1); }
  size_t Hash(uint64_t a) const { return ((a >> 4) * 0x9E3779B97F4A7C15ULL >> 20) & mask_; }
  // Only sampled blocks come here (rare): a compare-and-swap loop is cheap enough.
  void Count(uint64_t address, int delta) {
    std::atomic<uint8_t>& c = counts_[FilterIndex(address)];
    uint8_t v = c.load(std::memory_order_relaxed);
    for (;;) {
      if (v == kSaturated || (delta < 0 && v == 0)) return;
      if (c.compare_exchange_weak(v, static_cast<uint8_t>(v + delta), std::memory_order_relaxed)) {
        return;
      }
    }
  }
  std::atomic<uint64_t>* slots_ = nullptr;
  std::atomic<uint8_t>* counts_ = nullptr;
  size_t mask_ = 0;
};

}  // namespace tierscope::recorder
