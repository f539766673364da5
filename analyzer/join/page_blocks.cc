#include "join/page_blocks.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace tierscope::analyzer {

void PageBlocks::Grow() {
  std::vector<Leaf> old = std::move(table_);
  const size_t capacity = old.empty() ? 64 : old.size() * 2;
  shift_ = 64 - std::countr_zero(capacity);
  table_ = std::vector<Leaf>(capacity);
  for (Leaf& leaf : old) {
    if (leaf.page == kEmpty) continue;
    size_t j = Home(leaf.page);
    while (table_[j].page != kEmpty) j = (j + 1) & (capacity - 1);
    table_[j] = std::move(leaf);
  }
}

uint32_t PageBlocks::AddLeaf(uint64_t page, bool tree_touch) {
  if (2 * (used_ + 1) > table_.size()) Grow();
  const size_t mask = table_.size() - 1;
  size_t i = Home(page);
  while (table_[i].page != kEmpty) i = (i + 1) & mask;
  Leaf& leaf = table_[i];
  leaf.page = page;
  leaf.tree_touch = tree_touch;
  ++used_;
  ++empty_;  // until its first block
  return static_cast<uint32_t>(i);
}

// Backward-shift deletion: later leaves of the probe run move up, so lookups need no tombstones.
void PageBlocks::EraseKey(size_t i) {
  const size_t mask = table_.size() - 1;
  for (size_t j = (i + 1) & mask; table_[j].page != kEmpty; j = (j + 1) & mask) {
    const size_t home = Home(table_[j].page);
    // table_[j] may fill the hole at i when its home is not in (i, j] (cyclically).
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    table_[i] = std::move(table_[j]);
    i = j;
  }
  table_[i] = Leaf();
}

bool PageBlocks::Put(uint32_t id, uint64_t start, uint64_t end, uint32_t slot) {
  Leaf& leaf = table_[id];
  const int grain = GrainOf(start);
  const int pos = LowerBound(leaf, grain);
  if (pos < leaf.count && GrainOfEntry(leaf.entries()[pos]) == grain) return false;
  if (leaf.count == leaf.capacity) {  // spill to (or grow) the heap array
    const uint16_t capacity = static_cast<uint16_t>(2 * leaf.capacity);
    std::unique_ptr<Entry[]> more(new Entry[capacity]);
    std::memcpy(more.get(), leaf.entries(), leaf.count * sizeof(Entry));
    leaf.more = std::move(more);
    leaf.capacity = capacity;
  }
  Entry* entries = leaf.entries();
  std::memmove(entries + pos + 1, entries + pos, (leaf.count - pos) * sizeof(Entry));
  entries[pos] = MakeEntry(grain, end - Base(leaf), slot);
  if (leaf.count++ == 0) --empty_;
  ++size_;
  return true;
}

uint32_t PageBlocks::Remove(uint64_t start) {
  if (table_.empty() || (start & ((1u << kGrainBits) - 1)) != 0) return kNone;
  const uint64_t page = PageOf(start);
  const size_t mask = table_.size() - 1;
  size_t i = Home(page);
  for (; table_[i].page != page; i = (i + 1) & mask) {
    if (table_[i].page == kEmpty) return kNone;
  }
  Leaf& leaf = table_[i];
  const int grain = GrainOf(start);
  const int pos = LowerBound(leaf, grain);
  Entry* entries = leaf.entries();
  if (pos == leaf.count || GrainOfEntry(entries[pos]) != grain) return kNone;
  const uint32_t slot = SlotOfEntry(entries[pos]);
  std::memmove(entries + pos, entries + pos + 1, (leaf.count - pos - 1) * sizeof(Entry));
  --leaf.count;
  --size_;
  // An empty leaf stays: pages that empty and fill again all the time (two blocks per page on
  // a busy heap) would otherwise be removed from and added to the table each time. Once empty
  // leaves outnumber the rest, they all go.
  if (leaf.count == 0) {
    ++empty_;
    if (empty_ > std::max<size_t>(kKeptEmpty, used_ - empty_)) DropEmpty();
  }
  return slot;
}

void PageBlocks::DropEmpty() {
  for (size_t i = 0; i < table_.size();) {
    if (table_[i].page != kEmpty && table_[i].count == 0) {
      EraseKey(i);  // moves a later leaf into slot i: look at it again
      --used_;
      continue;
    }
    ++i;
  }
  empty_ = 0;
}

bool PageBlocks::Pred(uint64_t address, BlockTree::Hit* hit) const {
  const uint64_t page = PageOf(address);
  uint32_t id = LeafOf(page);
  if (id != kNone) {
    const Leaf& leaf = table_[id];
    const int before = LowerBound(leaf, GrainOf(address) + 1) - 1;  // last grain <= address's
    if (before >= 0) {
      *hit = HitAt(leaf, before);
      return true;
    }
  }
  if (page == 0 || (id = LeafOf(page - 1)) == kNone || table_[id].count == 0) return false;
  *hit = HitAt(table_[id], table_[id].count - 1);
  return true;
}

PageBlocks::Near PageBlocks::Probe(uint64_t start, uint64_t hi) const {
  const uint64_t page = PageOf(start);
  Near near{LeafOf(page), kNone, false};
  const int grain = GrainOf(start);
  int before = -1;
  if (near.first != kNone) {
    const Leaf& leaf = table_[near.first];
    const int after = LowerBound(leaf, grain + 1);  // the first block starting after `start`
    before = after - 1;
    if (before >= 0) {
      const Entry e = leaf.entries()[before];
      // A block at `start` itself, or one before it reaching past it.
      if (GrainOfEntry(e) == grain || Base(leaf) + EndOfEntry(e) > start) {
        return {near.first, kNone, true};
      }
    }
    if (after < leaf.count && StartAt(leaf, after) < hi) return {near.first, kNone, true};
  }
  if (before < 0 && page > 0) {  // the last block of the page before may reach into this one
    const uint32_t id = LeafOf(page - 1);
    if (id != kNone && table_[id].count > 0) {
      const Leaf& leaf = table_[id];
      if (Base(leaf) + EndOfEntry(leaf.entries()[leaf.count - 1]) > start) {
        return {near.first, kNone, true};
      }
    }
  }
  const uint64_t last_page = PageOf(hi - 1);
  if (last_page == page) {
    near.last = near.first;
    return near;
  }
  near.last = LeafOf(last_page);
  if (near.last != kNone && table_[near.last].count > 0) {
    near.overlaps = StartAt(table_[near.last], 0) < hi;
  }
  return near;
}

bool PageBlocks::FirstStartNear(uint64_t lo, uint64_t hi, uint64_t* start) const {
  if (hi <= lo) return false;
  const uint64_t page = PageOf(lo);
  uint32_t id = LeafOf(page);
  if (id != kNone) {
    const Leaf& leaf = table_[id];
    const uint64_t first = (lo + (1u << kGrainBits) - 1) >> kGrainBits;  // grains at or after lo
    const int from = first >> (kPageBits - kGrainBits) != page
                         ? kGrains
                         : static_cast<int>(first & (kGrains - 1));
    const int i = from == kGrains ? leaf.count : LowerBound(leaf, from);
    if (i < leaf.count) {
      *start = StartAt(leaf, i);
      return *start < hi;
    }
  }
  if (PageOf(hi - 1) == page || (id = LeafOf(page + 1)) == kNone || table_[id].count == 0) {
    return false;
  }
  *start = StartAt(table_[id], 0);
  return *start < hi;
}

void PageBlocks::Collect(uint64_t lo, uint64_t hi, std::vector<BlockTree::Hit>* out) const {
  if (hi <= lo || used_ == 0) return;
  const size_t first = out->size();
  ForEachLeaf(PageOf(lo), PageOf(hi - 1), [&](uint32_t id) {
    const Leaf& leaf = table_[id];
    for (int i = 0; i < leaf.count; ++i) {
      const BlockTree::Hit hit = HitAt(leaf, i);
      if (hit.start >= lo && hit.start < hi) out->push_back(hit);
    }
  });
  // Through the leaves (a wide range) they come in hash order.
  std::sort(out->begin() + static_cast<long>(first), out->end(),
            [](const BlockTree::Hit& a, const BlockTree::Hit& b) { return a.start < b.start; });
}

}  // namespace tierscope::analyzer
