// Lock-free map from a stack's raw hash to its tier code, in the placer's own memory. Readers
// never wait: an entry is one 64-bit word (hash bits | code in the low byte) published with one
// CAS. With learning on, each slot also keeps its frames and allocation counts.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mapped_arrays.h"

namespace tierscope::placer {

constexpr int kMaxDepth = 8;
constexpr uint8_t kNoCode = 0;  // empty slot / not found

class SiteCache {
 public:
  static constexpr size_t kSlots = size_t{1} << 17;
  static constexpr int kProbes = 32;

  bool Init(bool learning) {
    slots_ = MapArray<std::atomic<uint64_t>>(kSlots);
    if (learning) {
      frames_ = MapArray<uint64_t>(kSlots * kMaxDepth);
      depth_ = MapArray<uint8_t>(kSlots);
      allocs_ = MapArray<std::atomic<uint64_t>>(kSlots);
      bytes_ = MapArray<std::atomic<uint64_t>>(kSlots);
    }
    return slots_ && (!learning || (frames_ && depth_ && allocs_ && bytes_));
  }

  // Code for `hash`, or kNoCode. *slot gets the slot index when found (for Count()).
  uint8_t Find(uint64_t hash, size_t* slot) const {
    const uint64_t want = hash & ~uint64_t{0xFF};
    size_t i = hash & (kSlots - 1);
    for (int probe = 0; probe < kProbes; ++probe, i = (i + 1) & (kSlots - 1)) {
      const uint64_t e = slots_[i].load(std::memory_order_acquire);
      if (e == 0) return kNoCode;
      if ((e & ~uint64_t{0xFF}) == want) {
        *slot = i;
        return static_cast<uint8_t>(e);
      }
    }
    return kNoCode;
  }

  // Publishes hash -> code (code != kNoCode). Returns the slot, or -1 when the probe run is full.
  long Insert(uint64_t hash, uint8_t code, const uint64_t* frames, int depth) {
    const uint64_t entry = (hash & ~uint64_t{0xFF}) | code;
    size_t i = hash & (kSlots - 1);
    for (int probe = 0; probe < kProbes; ++probe, i = (i + 1) & (kSlots - 1)) {
      uint64_t e = slots_[i].load(std::memory_order_acquire);
      if (e == 0) {
        if (frames_) {  // learning: the frames are written before the entry is visible
          for (int d = 0; d < depth; ++d) frames_[i * kMaxDepth + d] = frames[d];
          depth_[i] = static_cast<uint8_t>(depth);
        }
        if (slots_[i].compare_exchange_strong(e, entry, std::memory_order_acq_rel)) return long(i);
      }
      if ((e & ~uint64_t{0xFF}) == (hash & ~uint64_t{0xFF})) return long(i);
    }
    return -1;
  }

  // Forgets every entry (after dlclose: raw addresses may now mean another module).
  void Clear() {
    for (size_t i = 0; i < kSlots; ++i) {
      if (slots_[i].load(std::memory_order_relaxed)) slots_[i].store(0, std::memory_order_release);
    }
  }

  bool learning() const { return allocs_ != nullptr; }
  void Count(size_t slot, uint64_t bytes) {
    allocs_[slot].fetch_add(1, std::memory_order_relaxed);
    bytes_[slot].fetch_add(bytes, std::memory_order_relaxed);
  }
  uint64_t entry(size_t slot) const { return slots_[slot].load(std::memory_order_acquire); }
  uint64_t TakeAllocs(size_t slot) { return allocs_[slot].exchange(0, std::memory_order_relaxed); }
  uint64_t TakeBytes(size_t slot) { return bytes_[slot].exchange(0, std::memory_order_relaxed); }
  uint64_t allocs(size_t slot) const { return allocs_[slot].load(std::memory_order_relaxed); }
  uint64_t bytes(size_t slot) const { return bytes_[slot].load(std::memory_order_relaxed); }
  const uint64_t* frames(size_t slot) const { return frames_ + slot * kMaxDepth; }
  int depth(size_t slot) const { return depth_[slot]; }

 private:
  std::atomic<uint64_t>* slots_ = nullptr;
  uint64_t* frames_ = nullptr;
  uint8_t* depth_ = nullptr;
  std::atomic<uint64_t>* allocs_ = nullptr;
  std::atomic<uint64_t>* bytes_ = nullptr;
};

// The plan's match keys (HashKey of (module identity, offset) frames) -> tier code. Built once
// at start, read-only after.
class KeyTable {
 public:
  bool Init(size_t keys) {
    capacity_ = 64;
    while (capacity_ < keys * 2) capacity_ <<= 1;
    keys_ = MapArray<uint64_t>(capacity_);
    codes_ = MapArray<uint8_t>(capacity_);
    return keys_ && codes_;
  }
  // False when the key is already there with another code (the plan is ambiguous at this depth).
  bool Add(uint64_t key, uint8_t code) {
    key |= 1;  // 0 marks an empty slot
    for (size_t i = key & (capacity_ - 1);; i = (i + 1) & (capacity_ - 1)) {
      if (keys_[i] == 0) {
        keys_[i] = key;
        codes_[i] = code;
        ++size_;
        return true;
      }
      if (keys_[i] == key) return codes_[i] == code;
    }
  }
  uint8_t Find(uint64_t key) const {
    if (!keys_) return kNoCode;
    key |= 1;
    for (size_t i = key & (capacity_ - 1);; i = (i + 1) & (capacity_ - 1)) {
      if (keys_[i] == 0) return kNoCode;
      if (keys_[i] == key) return codes_[i];
    }
  }
  size_t size() const { return size_; }

 private:
  uint64_t* keys_ = nullptr;
  uint8_t* codes_ = nullptr;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace tierscope::placer
