// Small blocks by the page they start in: for each 4 KiB page that holds one, a bitmap of the
// 16-byte grains where blocks start and their slots in grain order, found through an
// open-addressing hash table of page numbers.
//
// malloc returns 16-byte aligned addresses and nearly every block is at most a page long, so
// this holds almost every block of a trace: a release, an allocation's overlap check and a
// sample's lookup touch one or two pages — a hash probe and a few bit operations — where the
// ordered tree it replaced on the common path did two binary searches and shifted three arrays
// (perf: ~45% of `tierscope analyze` on the stress example). A block of at most a page that
// starts in page p ends in p or p + 1, so the block holding an address starts in its page or the
// one before. Everything else (join/block_tree.h) is the live map's business.
#pragma once

#include <bit>
#include <cstdint>
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

  // The page's leaf id, or kNone when no block starts in it (a leaf may be empty).
  uint32_t LeafOf(uint64_t page) const {
    if (keys_.empty()) return kNone;
    const size_t mask = keys_.size() - 1;
    for (size_t i = Home(page);; i = (i + 1) & mask) {
      if (keys_[i] == page) return ids_[i];
      if (keys_[i] == kEmpty) return kNone;
    }
  }
  // Creates the leaf of a page that has none.
  uint32_t AddLeaf(uint64_t page, bool tree_touch);
  // Adds a block at `start` (in the leaf's page, Holds()); a block already there wins (false).
  bool Put(uint32_t leaf, uint64_t start, uint32_t slot);
  // Removes the block starting exactly at `start`: its slot, or kNone when there is none.
  uint32_t Remove(uint64_t start);
  // The block with the greatest start <= address, among those starting in address's page or
  // the page before (the only ones that can hold it).
  bool Pred(uint64_t address, uint64_t* start, uint32_t* slot) const;
  // The smallest start in [lo, hi), for hi - lo <= kMaxSize (within two pages).
  bool FirstStartNear(uint64_t lo, uint64_t hi, uint64_t* start) const;

  // What an insert of a block [start, hi) that Holds() needs to know, in one or two lookups:
  // the leaves of its first and last page (kNone when absent) and whether a block held here
  // overlaps it (starts in [start, hi), or starts before and reaches past start: end_of(slot)).
  struct Near {
    uint32_t first, last;
    bool overlaps;
  };
  template <class EndOf>
  Near Probe(uint64_t start, uint64_t hi, EndOf&& end_of) const {
    const uint64_t page = PageOf(start);
    Near near{LeafOf(page), kNone, false};
    const int grain = static_cast<int>((start >> kGrainBits) & (kGrains - 1));
    int before = -1;
    if (near.first != kNone) {
      const Leaf& leaf = leaves_[near.first];
      before = GrainAtOrBefore(leaf, grain);
      if (before == grain) return {near.first, kNone, true};
      if (before >= 0 && end_of(leaf.slots[Rank(leaf, before)]) > start) {
        return {near.first, kNone, true};
      }
      const int after = GrainAtOrAfter(leaf, grain + 1);
      if (after >= 0 && StartOf(leaf, after) < hi) return {near.first, kNone, true};
    }
    if (before < 0 && page > 0) {  // the last block of the page before may reach into this one
      const uint32_t id = LeafOf(page - 1);
      if (id != kNone && !leaves_[id].slots.empty() && end_of(leaves_[id].slots.back()) > start) {
        return {near.first, kNone, true};
      }
    }
    const uint64_t last_page = PageOf(hi - 1);
    if (last_page == page) {
      near.last = near.first;
      return near;
    }
    near.last = LeafOf(last_page);
    if (near.last != kNone && !leaves_[near.last].slots.empty()) {
      const Leaf& leaf = leaves_[near.last];
      near.overlaps = StartOf(leaf, GrainAtOrAfter(leaf, 0)) < hi;
    }
    return near;
  }
  // Appends the blocks starting in [lo, hi) by start (end left 0: the caller knows it).
  void Collect(uint64_t lo, uint64_t hi, std::vector<BlockTree::Hit>* out) const;

  // Whether a block of the live map's tree may overlap the page (kept by the live map).
  bool tree_touch(uint32_t leaf) const { return leaves_[leaf].tree_touch; }
  void set_tree_touch(uint32_t leaf, bool touch) { leaves_[leaf].tree_touch = touch; }
  uint64_t page(uint32_t leaf) const { return leaves_[leaf].page; }
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
    for (uint32_t l = 0; l < leaves_.size(); ++l) {
      const Leaf& leaf = leaves_[l];
      if (leaf.in_use && leaf.page >= page_lo && leaf.page <= page_hi) f(l);
    }
  }

 private:
  static constexpr int kGrains = 1 << (kPageBits - kGrainBits);  // per page: 256
  struct Leaf {
    uint64_t bits[kGrains / 64] = {};
    std::vector<uint32_t> slots;  // one per set bit, in grain order
    uint64_t page = 0;
    bool tree_touch = false;
    bool in_use = false;
  };
  static constexpr uint64_t kEmpty = UINT64_MAX;  // no page number is this large

  static int Popcount(uint64_t x) {  // inline: without -mpopcnt std::popcount is a libgcc call
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return static_cast<int>((x * 0x0101010101010101ull) >> 56);
  }
  // Slots of set bits before `grain`.
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
  static uint64_t StartOf(const Leaf& leaf, int grain) {
    return (leaf.page << kPageBits) | (uint64_t(grain) << kGrainBits);
  }
  size_t Home(uint64_t page) const {
    return static_cast<size_t>((page * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void Grow();
  void DropEmpty();
  static constexpr size_t kKeptEmpty = 4096;  // empty leaves kept at least
  void EraseKey(size_t pos);

  // The hash table: page number -> leaf id, linear probing, at most half full.
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> ids_;
  int shift_ = 64;
  std::vector<Leaf> leaves_;
  std::vector<uint32_t> free_leaves_;
  size_t used_ = 0;   // leaves in use
  size_t empty_ = 0;  // of which hold no block
  size_t size_ = 0;   // blocks
};

}  // namespace tierscope::analyzer
