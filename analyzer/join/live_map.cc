#include "join/live_map.h"

#include <algorithm>

namespace tierscope::analyzer {
namespace {

constexpr uint32_t kNone = PageBlocks::kNone;

bool ByStart(const BlockTree::Hit& a, const BlockTree::Hit& b) {
  return a.start < b.start;
}

}  // namespace

uint32_t LiveMap::NewSlot(const LiveBlock& block) {
  if (free_slots_.empty()) {
    slab_.push_back(block);
    return static_cast<uint32_t>(slab_.size() - 1);
  }
  const uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  slab_[slot] = block;
  return slot;
}

bool LiveMap::TreeTouchesPage(uint64_t page) const {
  const uint64_t lo = page << PageBlocks::kPageBits;
  const uint64_t hi = lo + PageBlocks::kMaxSize;
  return tree_.Touches(lo, hi > lo ? hi : UINT64_MAX);
}

void LiveMap::MarkTreeTouch(uint64_t start, uint64_t end, bool recompute) {
  if (pages_.pages() == 0) return;
  const uint64_t last = end > start ? end - 1 : start;
  pages_.ForEachLeaf(PageBlocks::PageOf(start), PageBlocks::PageOf(last), [&](uint32_t leaf) {
    pages_.set_tree_touch(leaf, !recompute || TreeTouchesPage(pages_.page(leaf)));
  });
}

void LiveMap::Put(uint64_t start, const LiveBlock& block) {
  const uint32_t slot = NewSlot(block);
  bool added;
  if (PageBlocks::Holds(start, block.end)) {
    const uint64_t page = PageBlocks::PageOf(start);
    uint32_t leaf = pages_.LeafOf(page);
    if (leaf == kNone) leaf = pages_.AddLeaf(page, !tree_.empty() && TreeTouchesPage(page));
    added = pages_.Put(leaf, start, block.end, slot);
  } else {
    added = tree_.Put(start, block.end, slot);
    if (added) MarkTreeTouch(start, block.end, false);
  }
  if (!added) free_slots_.push_back(slot);
}

bool LiveMap::Containing(uint64_t address, BlockTree::Hit* hit) const {
  if (pages_.Pred(address, hit) && address < hit->end) return true;
  if (tree_.empty()) return false;
  const uint32_t leaf = pages_.LeafOf(PageBlocks::PageOf(address));
  if (leaf != kNone && !pages_.tree_touch(leaf)) return false;
  return tree_.Containing(address, hit);
}

bool LiveMap::Overlaps(uint64_t start, uint64_t end) const {
  const uint64_t hi = end > start ? end : start + 1;
  BlockTree::Hit hit;
  if (Containing(start, &hit) || tree_.AnyStartIn(start, hi)) return true;
  uint64_t first;
  if (hi - start <= PageBlocks::kMaxSize) return pages_.FirstStartNear(start, hi, &first);
  scratch_.clear();
  pages_.Collect(start, hi, &scratch_);
  return !scratch_.empty();
}

void LiveMap::Insert(uint64_t start, const LiveBlock& block, const OnRemoved& on_removed) {
  bool overlaps;
  if (PageBlocks::Holds(start, block.end)) {
    // The common case, inline: only page-held neighbours, and the tree when a page says so.
    const uint64_t hi = block.end > start ? block.end : start + 1;
    const PageBlocks::Near near = pages_.Probe(start, hi);
    overlaps = near.overlaps;
    if (!overlaps && !tree_.empty() &&
        (near.first == kNone || pages_.tree_touch(near.first) || near.last == kNone ||
         pages_.tree_touch(near.last))) {
      overlaps = tree_.Touches(start, hi);
    }
    if (!overlaps) {
      uint32_t leaf = near.first;
      if (leaf == kNone) {
        const uint64_t page = PageBlocks::PageOf(start);
        leaf = pages_.AddLeaf(page, !tree_.empty() && TreeTouchesPage(page));
      }
      pages_.Put(leaf, start, block.end, NewSlot(block));
      return;
    }
  } else {
    overlaps = Overlaps(start, block.end);
  }
  if (overlaps) {
    EraseRange(start, block.end, on_removed);
    LiveBlock gone;  // an empty block (malloc(0)) at the same address
    if (Erase(start, &gone)) on_removed(start, gone.end, gone);
  }
  Put(start, block);
}

bool LiveMap::Erase(uint64_t start, LiveBlock* removed) {
  uint32_t slot = pages_.Remove(start);
  if (slot == kNone) {
    BlockTree::Hit hit;
    if (tree_.empty() || !tree_.Remove(start, &hit)) return false;
    slot = hit.slot;
    MarkTreeTouch(start, hit.end, true);
  }
  *removed = slab_[slot];
  free_slots_.push_back(slot);
  return true;
}

void LiveMap::EraseRange(uint64_t start, uint64_t end, const OnRemoved& on_removed) {
  // First the blocks it touches (the block holding `start`, then every block starting inside
  // the range, in address order), then the changes: pieces put back never need a second look.
  cut_.clear();
  BlockTree::Hit hit;
  if (Containing(start, &hit) && hit.start < end) cut_.push_back(hit);
  if (end > start + 1) {
    const size_t from = cut_.size();
    pages_.Collect(start + 1, end, &cut_);
    const size_t middle = cut_.size();
    tree_.Collect(start + 1, end, &cut_);
    std::inplace_merge(cut_.begin() + static_cast<long>(from),
                       cut_.begin() + static_cast<long>(middle), cut_.end(), ByStart);
  }
  cut_blocks_.clear();
  for (const auto& h : cut_) cut_blocks_.emplace_back(h.start, slab_[h.slot]);
  for (const auto& [block_start, block] : cut_blocks_) {
    LiveBlock gone;
    Erase(block_start, &gone);
    const uint64_t cut_start = block_start > start ? block_start : start;
    const uint64_t cut_end = block.end < end ? block.end : end;
    if (block_start < cut_start) {  // keep the head
      LiveBlock head = block;
      head.end = cut_start;
      Put(block_start, head);
    }
    if (cut_end < block.end) Put(cut_end, block);  // keep the tail
    on_removed(cut_start, cut_end, block);
  }
}

const LiveBlock* LiveMap::Find(uint64_t address) const {
  BlockTree::Hit hit;
  return Containing(address, &hit) ? &slab_[hit.slot] : nullptr;
}

}  // namespace tierscope::analyzer
