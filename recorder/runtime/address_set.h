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
    slots_ = static_cast<std::atomic<uint64_t>*>(RawMap(slots * sizeof(uint64_t)));
    filter_ = static_cast<std::atomic<uint64_t>*>(RawMap(kFilterBits / 8));
    return slots_ != nullptr && filter_ != nullptr;
  }
  void Insert(uint64_t address) {
    const uint64_t bit = FilterBit(address);
    filter_[bit / 64].fetch_or(uint64_t{1} << (bit % 64), std::memory_order_relaxed);
    for (size_t probe = 0, i = Hash(address); probe < kMaxProbe; ++probe, i = (i + 1) & mask_) {
      uint64_t v = slots_[i].load(std::memory_order_relaxed);
      if ((v == kEmpty || v == kTomb) &&
          slots_[i].compare_exchange_strong(v, address, std::memory_order_relaxed)) {
        return;
      }
    }
  }
  // True when `address` was in the set (and removes it).
  bool Erase(uint64_t address) {
    // Most releases are of blocks never sampled: one bit in a 128 KiB filter (cache resident)
    // says so without touching the table. Bits are never cleared, so it only ever says "maybe".
    const uint64_t bit = FilterBit(address);
    if ((filter_[bit / 64].load(std::memory_order_relaxed) & (uint64_t{1} << (bit % 64))) == 0) {
      return false;
    }
    for (size_t probe = 0, i = Hash(address); probe < kMaxProbe; ++probe, i = (i + 1) & mask_) {
      uint64_t v = slots_[i].load(std::memory_order_relaxed);
      if (v == kEmpty) return false;
      if (v == address) {
        return slots_[i].compare_exchange_strong(v, kTomb, std::memory_order_relaxed);
      }
    }
    return false;
  }

 private:
  static constexpr uint64_t kEmpty = 0, kTomb = 1;
  static constexpr size_t kMaxProbe = 64;
  static constexpr uint64_t kFilterBits = uint64_t{1} << 20;
  static uint64_t FilterBit(uint64_t a) { return ((a >> 4) * 0xD6E8FEB86659FD93ULL) >> 44; }
  size_t Hash(uint64_t a) const { return ((a >> 4) * 0x9E3779B97F4A7C15ULL >> 20) & mask_; }
  std::atomic<uint64_t>* slots_ = nullptr;
  std::atomic<uint64_t>* filter_ = nullptr;
  size_t mask_ = 0;
};

}  // namespace tierscope::recorder
