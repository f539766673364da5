#include "join/live_map.h"

namespace tierscope::analyzer {

void LiveMap::Insert(uint64_t start, const LiveBlock& block, const OnRemoved& on_removed) {
  // Fast path: nothing overlaps.
  auto next = blocks_.lower_bound(start);
  bool overlaps = next != blocks_.end() && (next->first < block.end || next->first == start);
  if (!overlaps && next != blocks_.begin()) overlaps = std::prev(next)->second.end > start;
  if (overlaps) {
    EraseRange(start, block.end, on_removed);
    auto same = blocks_.find(start);  // an empty block (malloc(0)) at the same address
    if (same != blocks_.end()) {
      const LiveBlock gone = same->second;
      blocks_.erase(same);
      on_removed(start, gone.end, gone);
    }
  }
  blocks_.emplace_hint(blocks_.lower_bound(start), start, block);
}

bool LiveMap::Erase(uint64_t start, LiveBlock* removed) {
  auto it = blocks_.find(start);
  if (it == blocks_.end()) return false;
  *removed = it->second;
  blocks_.erase(it);
  return true;
}

void LiveMap::EraseRange(uint64_t start, uint64_t end, const OnRemoved& on_removed) {
  auto it = blocks_.upper_bound(start);
  if (it != blocks_.begin() && std::prev(it)->second.end > start) --it;
  while (it != blocks_.end() && it->first < end) {
    const uint64_t block_start = it->first;
    const LiveBlock block = it->second;
    it = blocks_.erase(it);
    const uint64_t cut_start = block_start > start ? block_start : start;
    const uint64_t cut_end = block.end < end ? block.end : end;
    if (block_start < cut_start) {  // keep the head
      LiveBlock head = block;
      head.end = cut_start;
      blocks_.emplace(block_start, head);
    }
    if (cut_end < block.end) {  // keep the tail
      it = blocks_.emplace(cut_end, block).first;
      ++it;
    }
    on_removed(cut_start, cut_end, block);
  }
}

const LiveBlock* LiveMap::Find(uint64_t address) const {
  auto it = blocks_.upper_bound(address);
  if (it == blocks_.begin()) return nullptr;
  --it;
  return address < it->second.end ? &it->second : nullptr;
}

}  // namespace tierscope::analyzer
