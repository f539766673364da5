// Small blocks by the page they start in: for each 4 KiB page that holds one, a bitmap of the
// 16-byte grains where blocks start and, in grain order, each block's slot and end: the leaves
// are the slots of an open-addressing hash table of page numbers, so finding a page and reading
// its bitmap is one cache miss.
//
// malloc returns 16-byte aligned addresses and nearly every block is at most a page long, so
// this holds almost every block of a trace: a release, an allocation's overlap check and a
// sample's lookup touch one or two pages — a hash probe, a cache line or two of leaf and a few
// bit operations — where the ordered tree it replaced on the common path did two binary searches
// and shifted three arrays (perf: ~45% of `tierscope analyze` on the stress example). A block
// of at most a page that starts in page p ends in p or p + 1, so the block holding an address
// starts in its page or the one before. Everything else (join/block_tree.h) is the live map's.
#pragma once

#include <bit>
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
  // A block's slot and its end from the page's start (< 2 pages).
  struct Entry {
    uint32_t slot;
    uint32_t end;
  };
  static constexpr int kInline = 9;  // entries in the leaf itself: a leaf is two cache lines
  struct alignas(64) Leaf {
    uint64_t bits[kGrains / 64] = {};
    uint64_t page = kEmpty;         // the key; kEmpty: a free table slot
    std::unique_ptr<Entry[]> more;  // all entries once a page held more than kInline
    uint16_t count = 0, capacity = kInline;
    bool tree_touch = false;
    Entry inline_entries[kInline];
    Entry* entries() { return more ? more.get() : inline_entries; }
    const Entry* entries() const { return more ? more.get() : inline_entries; }
  };

  static int Popcount(uint64_t x) {  // inline: without -mpopcnt std::popcount is a libgcc call
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return static_cast<int>((x * 0x0101010101010101ull) >> 56);
  }
  // Entries before `grain`.
  static int Rank(const Leaf& leaf, int grain) {
    int rank = 0;
    const int word = grain >> 6;
    for (int w = 0; w < word; ++w) rank += Popcount(leaf.bits[w]);
    const int bit = grain & 63;
    return rank + (bit ? Popcount(leaf.bits[word] << (64 - bit)) : 0);
  }
  // The highest set grain <= `grain`, or -1.
  static int GrainAtOrBefore(const Leaf& leaf, int grain) {
    int word = grain >> 6;
    const int bit = grain & 63;
    uint64_t m = leaf.bits[word] & (bit == 63 ? ~uint64_t(0) : (uint64_t(2) << bit) - 1);
    while (m == 0) {
      if (word == 0) return -1;
      m = leaf.bits[--word];
    }
    return word * 64 + 63 - std::countl_zero(m);
  }
  // The lowest set grain >= `grain`, or -1.
  static int GrainAtOrAfter(const Leaf& leaf, int grain) {
    if (grain >= kGrains) return -1;
    int word = grain >> 6;
    uint64_t m = leaf.bits[word] & (~uint64_t(0) << (grain & 63));
    while (m == 0) {
      if (++word == kGrains / 64) return -1;
      m = leaf.bits[word];
    }
    return word * 64 + std::countr_zero(m);
  }
  static int GrainOf(uint64_t address) {
    return static_cast<int>((address >> kGrainBits) & (kGrains - 1));
  }
  static uint64_t Base(const Leaf& leaf) { return leaf.page << kPageBits; }
  static uint64_t StartOf(const Leaf& leaf, int grain) {
    return Base(leaf) | (uint64_t(grain) << kGrainBits);
  }
  // The entry at `grain` (set) as a hit.
  static BlockTree::Hit HitAt(const Leaf& leaf, int grain, int rank) {
    const Entry& e = leaf.entries()[rank];
    return {StartOf(leaf, grain), Base(leaf) + e.end, e.slot};
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
