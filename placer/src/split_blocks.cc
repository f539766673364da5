#include "split_blocks.h"

namespace tierscope::placer {

bool SplitBlocks::Add(uintptr_t block, const Head& head) {
  const unsigned home = Home(block);
  for (int k = 0; k < kSplitWindow; ++k) {
    Slot& s = slots_[(home + k) % kSplitSlots];
    uintptr_t empty = 0;
    if (!s.block.compare_exchange_strong(empty, kBusy, std::memory_order_acquire)) continue;
    s.head = head;
    s.block.store(block, std::memory_order_release);
    live_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

bool SplitBlocks::Find(uintptr_t block, Head* head) const {
  const unsigned home = Home(block);
  for (int k = 0; k < kSplitWindow; ++k) {
    const Slot& s = slots_[(home + k) % kSplitSlots];
    if (s.block.load(std::memory_order_acquire) == block) {
      *head = s.head;
      return true;
    }
  }
  return false;
}

bool SplitBlocks::Take(uintptr_t block, Head* head) {
  const unsigned home = Home(block);
  for (int k = 0; k < kSplitWindow; ++k) {
    Slot& s = slots_[(home + k) % kSplitSlots];
    if (s.block.load(std::memory_order_acquire) != block) continue;
    // A block is freed once (twice is the program's bug): its slot is ours to empty.
    *head = s.head;
    s.block.store(0, std::memory_order_release);
    live_.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

}  // namespace tierscope::placer
