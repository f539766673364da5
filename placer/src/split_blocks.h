// Heap blocks split across two tiers (common/split_blocks.h has the rule and why): a block from
// kSplitFromBytes whose tier has room for part of it is allocated on a slower tier's arena and
// its first whole pages are bound to the full tier's nodes and charged to its budget. This table
// finds such a block again when it is freed or resized, to give those pages and bytes back.
//
// Lock-free and allocation-free: open addressing by page number over a fixed array, each key
// looked up in a window of kSplitWindow slots. Looked up only while a split block is live, so
// every other free pays one relaxed load.
#pragma once

#include <atomic>
#include <cstdint>

namespace tierscope::placer {

constexpr int kSplitSlots = 2048;
constexpr int kSplitWindow = 8;

class SplitBlocks {
 public:
  struct Head {
    uintptr_t lo = 0, hi = 0;  // whole pages of the block bound to `tier`
    int tier = 0;
  };

  // Records `block` (its start address). False when its window is full (it is then not split).
  bool Add(uintptr_t block, const Head& head);
  // Removes `block` and gives its head; false when it is not a split block.
  bool Take(uintptr_t block, Head* head);
  // The head of `block` without removing it; false when it is not a split block.
  bool Find(uintptr_t block, Head* head) const;
  bool any() const { return live_.load(std::memory_order_relaxed) != 0; }
  int live() const { return live_.load(std::memory_order_relaxed); }

 private:
  static constexpr uintptr_t kBusy = 1;  // a slot being filled (block addresses are never 1)
  struct Slot {
    std::atomic<uintptr_t> block{0};
    Head head;
  };
  static unsigned Home(uintptr_t block) {
    return static_cast<unsigned>(((block >> 12) * 0x9E3779B97F4A7C15ull) >> 53) % kSplitSlots;
  }

  Slot slots_[kSplitSlots];
  std::atomic<int> live_{0};
};

}  // namespace tierscope::placer
