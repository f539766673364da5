// Small blocks by the page they start in: for each 4 KiB page that holds one, its blocks sorted by
// start (the 16-byte grain where each starts, its end and its slot packed in one integer, the
// first five in the leaf itself): the leaves are the one-cache-line slots of an open-addressing
// hash table of page numbers, so finding a page and its blocks is one cache miss.
//
// malloc returns 16-byte aligned addresses and nearly every block is at most a page long, so
// this holds almost every block of a trace: a release, an allocation's overlap check and a
// sample's lookup touch one or two pages — a hash probe, a cache line or two of leaf and a few
// bit operations — where the ordered tree it replaced on the common path did two binary searches
// and shifted three arrays (perf: ~45% of `tierscope analyze` on the stress example). A block
// of at most a page that starts in page p ends in p or p + 1, so the block holding an address
// starts in its page or the one before. Everything else (join/block_tree.h) is the live map's.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "join/block_tree.h"

namespace tierscope::analyzer {

class PageBlocks {
 public:
  static constexpr int kPageBits = 12;
  static constexpr int kGrainBits = 4;
  static constexpr uint64_t kMaxSize = uint64_t(1) << kPageBits;
  static constexpr uint32_t kNone = UINT32_MAX;

  // Whether a block [start, end) belongs here.
  static bool Holds(uint64_t start, uint64_t end) {
    return (start & ((1u << kGrainBits) - 1)) == 0 && end >= start && end - start <= kMaxSize;
  }
  static uint64_t PageOf(uint64_t address) { return address >> kPageBits; }

  size_t size() const { return size_; }
  size_t pages() const { return used_; }

  // The page's leaf id, or kNone when it has none (a leaf may be empty).
  uint32_t LeafOf(uint64_t page) const {
    if (table_.empty()) return kNone;
    const size_t mask = table_.size() - 1;
    for (size_t i = Home(page);; i = (i + 1) & mask) {
      if (table_[i].page == page) return static_cast<uint32_t>(i);
      if (table_[i].page == kEmpty) return kNone;
    }
  }
  // Creates the leaf of a page that has none. Leaf ids are table positions: valid until the
  // next AddLeaf or Remove.
  uint32_t AddLeaf(uint64_t page, bool tree_touch);
  // Adds [start, end) (in the leaf's page, Holds()); a block already at start wins (false).
  bool Put(uint32_t leaf, uint64_t start, uint64_t end, uint32_t slot);
  // Removes the block starting exactly at `start`: its slot, or kNone when there is none.
  uint32_t Remove(uint64_t start);
  // The block with the greatest start <= address, among those starting in address's page or
  // the page before (the only ones that can hold it).
  bool Pred(uint64_t address, BlockTree::Hit* hit) const;
  // The smallest start in [lo, hi), for hi - lo <= kMaxSize (within two pages).
  bool FirstStartNear(uint64_t lo, uint64_t hi, uint64_t* start) const;
  // Appends the blocks starting in [lo, hi), by start.
  void Collect(uint64_t lo, uint64_t hi, std::vector<BlockTree::Hit>* out) const;

  // What an insert of a block [start, hi) that Holds() needs to know, in one or two lookups:
  // the leaves of its first and last page (kNone when absent) and whether a block held here
  // overlaps it (starts in [start, hi), or starts before and reaches past start).
  struct Near {
    uint32_t first, last;
    bool overlaps;
  };
  Near Probe(uint64_t start, uint64_t hi) const;

  // Whether a block of the live map's tree may overlap the page (kept by the live map).
  bool tree_touch(uint32_t leaf) const { return table_[leaf].tree_touch; }
  void set_tree_touch(uint32_t leaf, bool touch) { table_[leaf].tree_touch = touch; }
  uint64_t page(uint32_t leaf) const { return table_[leaf].page; }
  // Calls f(leaf id) for each page in [page_lo, page_hi] that has a leaf: through the pages
  // when they are fewer than the leaves, else through the leaves.
  template <class F>
  void ForEachLeaf(uint64_t page_lo, uint64_t page_hi, F&& f) const {
    if (page_hi - page_lo < used_) {
      for (uint64_t p = page_lo;; ++p) {
        const uint32_t leaf = LeafOf(p);
        if (leaf != kNone) f(leaf);
        if (p == page_hi) break;
      }
      return;
    }
    for (uint32_t l = 0; l < table_.size(); ++l) {
      const Leaf& leaf = table_[l];
      if (leaf.page != kEmpty && leaf.page >= page_lo && leaf.page <= page_hi) f(l);
    }
  }

 private:
  static constexpr int kGrains = 1 << (kPageBits - kGrainBits);  // per page: 256
  static constexpr uint64_t kEmpty = UINT64_MAX;                 // no page number is this large
  // A block as one integer: its grain in the page (bits 56..63, so entries sort by start), its
  // end from the page's start (bits 32..45: < 2 pages), its slot (bits 0..31).
  using Entry = uint64_t;
  static Entry MakeEntry(int grain, uint64_t end_offset, uint32_t slot) {
    return uint64_t(grain) << 56 | end_offset << 32 | slot;
  }
  static int GrainOfEntry(Entry e) { return static_cast<int>(e >> 56); }
  static uint64_t EndOfEntry(Entry e) { return (e >> 32) & 0x3fff; }
  static uint32_t SlotOfEntry(Entry e) { return static_cast<uint32_t>(e); }
  static constexpr int kInline = 5;  // entries in the leaf itself: a leaf is one cache line
  struct alignas(64) Leaf {
    uint64_t page = kEmpty;  // the key; kEmpty: a free table slot
    // Entries sorted by grain: inline up to kInline, then all of them in `more`.
    std::unique_ptr<Entry[]> more;
    uint16_t count = 0, capacity = kInline;
    bool tree_touch = false;
    Entry inline_entries[kInline];
    Entry* entries() { return more ? more.get() : inline_entries; }
    const Entry* entries() const { return more ? more.get() : inline_entries; }
  };

  // The first entry whose grain is >= `grain` (count when none).
  static int LowerBound(const Leaf& leaf, int grain) {
    if (grain >= kGrains) return leaf.count;
    const Entry* e = leaf.entries();
    const Entry key = uint64_t(grain) << 56;
    if (leaf.count <= kInline) {
      int i = 0;
      while (i < leaf.count && e[i] < key) ++i;
      return i;
    }
    return static_cast<int>(std::lower_bound(e, e + leaf.count, key) - e);
  }
  static uint64_t Base(const Leaf& leaf) { return leaf.page << kPageBits; }
  static int GrainOf(uint64_t address) {
    return static_cast<int>((address >> kGrainBits) & (kGrains - 1));
  }
  static uint64_t StartAt(const Leaf& leaf, int i) {
    return Base(leaf) | (uint64_t(GrainOfEntry(leaf.entries()[i])) << kGrainBits);
  }
  static BlockTree::Hit HitAt(const Leaf& leaf, int i) {
    const Entry e = leaf.entries()[i];
    return {Base(leaf) | (uint64_t(GrainOfEntry(e)) << kGrainBits), Base(leaf) + EndOfEntry(e),
            SlotOfEntry(e)};
  }
  size_t Home(uint64_t page) const {
    return static_cast<size_t>((page * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void Grow();
  void EraseKey(size_t pos);
  void DropEmpty();
  static constexpr size_t kKeptEmpty = 1024;  // empty leaves kept at least

  std::vector<Leaf> table_;  // by hash of the page, linear probing, at most half full
  int shift_ = 64;
  size_t used_ = 0;   // leaves in use
  size_t empty_ = 0;  // of which hold no block
  size_t size_ = 0;   // blocks
};

}  // namespace tierscope::analyzer
