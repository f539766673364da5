#include "join/page_blocks.h"

#include <algorithm>
#include <bit>

namespace tierscope::analyzer {

void PageBlocks::Grow() {
  std::vector<uint64_t> keys = std::move(keys_);
  std::vector<uint32_t> ids = std::move(ids_);
  const size_t capacity = keys.empty() ? 64 : keys.size() * 2;
  shift_ = 64 - std::countr_zero(capacity);
  keys_.assign(capacity, kEmpty);
  ids_.assign(capacity, kNone);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == kEmpty) continue;
    size_t j = Home(keys[i]);
    while (keys_[j] != kEmpty) j = (j + 1) & (capacity - 1);
    keys_[j] = keys[i];
    ids_[j] = ids[i];
  }
}

uint32_t PageBlocks::AddLeaf(uint64_t page, bool tree_touch) {
  if (2 * (used_ + 1) > keys_.size()) Grow();
  uint32_t id;
  if (free_leaves_.empty()) {
    id = static_cast<uint32_t>(leaves_.size());
    leaves_.emplace_back();
  } else {
    id = free_leaves_.back();
    free_leaves_.pop_back();
  }
  Leaf& leaf = leaves_[id];
  leaf.page = page;
  leaf.tree_touch = tree_touch;
  leaf.in_use = true;
  const size_t mask = keys_.size() - 1;
  size_t i = Home(page);
  while (keys_[i] != kEmpty) i = (i + 1) & mask;
  keys_[i] = page;
  ids_[i] = id;
  ++used_;
  ++empty_;  // until its first block
  return id;
}

// Backward-shift deletion: later keys of the probe run move up, so lookups need no tombstones.
void PageBlocks::EraseKey(size_t i) {
  const size_t mask = keys_.size() - 1;
  for (size_t j = (i + 1) & mask; keys_[j] != kEmpty; j = (j + 1) & mask) {
    const size_t home = Home(keys_[j]);
    // keys_[j] may fill the hole at i when its home is not in (i, j] (cyclically).
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    keys_[i] = keys_[j];
    ids_[i] = ids_[j];
    i = j;
  }
  keys_[i] = kEmpty;
  ids_[i] = kNone;
}

bool PageBlocks::Put(uint32_t id, uint64_t start, uint32_t slot) {
  Leaf& leaf = leaves_[id];
  const int grain = static_cast<int>((start >> kGrainBits) & (kGrains - 1));
  const uint64_t bit = uint64_t(1) << (grain & 63);
  if (leaf.bits[grain >> 6] & bit) return false;
  leaf.slots.insert(leaf.slots.begin() + Rank(leaf, grain), slot);
  leaf.bits[grain >> 6] |= bit;
  if (leaf.slots.size() == 1) --empty_;
  ++size_;
  return true;
}

uint32_t PageBlocks::Remove(uint64_t start) {
  if (keys_.empty() || (start & ((1u << kGrainBits) - 1)) != 0) return kNone;
  const uint64_t page = PageOf(start);
  const size_t mask = keys_.size() - 1;
  size_t i = Home(page);
  for (; keys_[i] != page; i = (i + 1) & mask) {
    if (keys_[i] == kEmpty) return kNone;
  }
  const uint32_t id = ids_[i];
  Leaf& leaf = leaves_[id];
  const int grain = static_cast<int>((start >> kGrainBits) & (kGrains - 1));
  const uint64_t bit = uint64_t(1) << (grain & 63);
  if (!(leaf.bits[grain >> 6] & bit)) return kNone;
  const int rank = Rank(leaf, grain);
  const uint32_t slot = leaf.slots[rank];
  leaf.slots.erase(leaf.slots.begin() + rank);
  leaf.bits[grain >> 6] &= ~bit;
  --size_;
  // An empty leaf stays: pages that empty and fill again all the time (two blocks per page on
  // a busy heap) would otherwise be removed from and added to the table each time. Once empty
  // leaves outnumber the rest, they all go.
  if (leaf.slots.empty()) {
    ++empty_;
    if (empty_ > std::max<size_t>(kKeptEmpty, used_ - empty_)) DropEmpty();
  }
  return slot;
}

void PageBlocks::DropEmpty() {
  for (size_t i = 0; i < keys_.size();) {
    if (keys_[i] != kEmpty && leaves_[ids_[i]].slots.empty()) {
      Leaf& leaf = leaves_[ids_[i]];
      leaf.in_use = false;
      free_leaves_.push_back(ids_[i]);
      EraseKey(i);  // moves a later key into slot i: look at it again
      --used_;
      continue;
    }
    ++i;
  }
  empty_ = 0;
}

bool PageBlocks::Pred(uint64_t address, uint64_t* start, uint32_t* slot) const {
  const uint64_t page = PageOf(address);
  uint32_t id = LeafOf(page);
  if (id != kNone) {
    const Leaf& leaf = leaves_[id];
    const int grain =
        GrainAtOrBefore(leaf, static_cast<int>((address >> kGrainBits) & (kGrains - 1)));
    if (grain >= 0) {
      *start = StartOf(leaf, grain);
      *slot = leaf.slots[Rank(leaf, grain)];
      return true;
    }
  }
  if (page == 0 || (id = LeafOf(page - 1)) == kNone || leaves_[id].slots.empty()) return false;
  const Leaf& before = leaves_[id];
  const int grain = GrainAtOrBefore(before, kGrains - 1);
  *start = StartOf(before, grain);
  *slot = before.slots.back();
  return true;
}

bool PageBlocks::FirstStartNear(uint64_t lo, uint64_t hi, uint64_t* start) const {
  if (hi <= lo) return false;
  const uint64_t page = PageOf(lo);
  uint32_t id = LeafOf(page);
  if (id != kNone) {
    const Leaf& leaf = leaves_[id];
    const uint64_t first = (lo + (1u << kGrainBits) - 1) >> kGrainBits;  // grains at or after lo
    const int from = first >> (kPageBits - kGrainBits) != page
                         ? kGrains
                         : static_cast<int>(first & (kGrains - 1));
    const int grain = GrainAtOrAfter(leaf, from);
    if (grain >= 0) {
      *start = StartOf(leaf, grain);
      return *start < hi;
    }
  }
  if (PageOf(hi - 1) == page || (id = LeafOf(page + 1)) == kNone || leaves_[id].slots.empty()) {
    return false;
  }
  *start = StartOf(leaves_[id], GrainAtOrAfter(leaves_[id], 0));
  return *start < hi;
}

void PageBlocks::Collect(uint64_t lo, uint64_t hi, std::vector<BlockTree::Hit>* out) const {
  if (hi <= lo || used_ == 0) return;
  const size_t first = out->size();
  ForEachLeaf(PageOf(lo), PageOf(hi - 1), [&](uint32_t id) {
    const Leaf& leaf = leaves_[id];
    int rank = 0;
    for (int w = 0; w < kGrains / 64; ++w) {
      for (uint64_t m = leaf.bits[w]; m != 0; m &= m - 1) {
        const uint64_t start = StartOf(leaf, w * 64 + std::countr_zero(m));
        if (start >= lo && start < hi) out->push_back({start, 0, leaf.slots[rank]});
        ++rank;
      }
    }
  });
  // Through the leaves (a wide range) they come in hash order.
  std::sort(out->begin() + static_cast<long>(first), out->end(),
            [](const BlockTree::Hit& a, const BlockTree::Hit& b) { return a.start < b.start; });
}

}  // namespace tierscope::analyzer
