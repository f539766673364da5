// The allocations live at one moment, keyed by address: finds the block holding an address and
// cuts ranges out of blocks (partial munmap). Blocks never overlap.
//
// Every allocator event inserts or erases here and every sample looks up, so this is the join's
// inner loop. Blocks of at most a page at 16-byte aligned addresses — nearly all of them — live
// in a hash of pages (join/page_blocks.h): O(1) per operation. The rest (large blocks, odd
// addresses) live in an ordered tree (join/block_tree.h); each page remembers whether a tree
// block may overlap it, so the common operations look at the tree only near such blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "join/block_tree.h"
#include "join/page_blocks.h"

namespace tierscope::analyzer {

struct LiveBlock {
  uint64_t end = 0;  // one past the last byte
  uint32_t site = 0;
  uint64_t alloc_time_ns = 0;
  uint64_t serial = 0;   // which allocation; pieces of a split mapping share it
  double scale = 1;      // allocations this one stands for (recorder's allocation sampling)
  bool mapping = false;  // mmap/mremap: may be unmapped piecewise
};

class LiveMap {
 public:
  // Called for each piece [start, end) removed from `block`.
  using OnRemoved = std::function<void(uint64_t start, uint64_t end, const LiveBlock& block)>;

  // Adds [start, block.end). Whatever overlapped it is removed first (reported to on_removed):
  // a new block at a live address means its release was not seen.
  void Insert(uint64_t start, const LiveBlock& block, const OnRemoved& on_removed);
  // Removes the block starting exactly at `start`. False when there is none.
  bool Erase(uint64_t start, LiveBlock* removed);
  // Removes [start, end) from every block it touches, keeping the parts outside it.
  void EraseRange(uint64_t start, uint64_t end, const OnRemoved& on_removed);
  // The block holding `address`, or null. Valid until the map changes.
  const LiveBlock* Find(uint64_t address) const;

  size_t size() const { return pages_.size() + tree_.size(); }

 private:
  // Whether a block starts in [start, max(end, start + 1)) or holds `start`: the overlap that
  // makes Insert remove what was there.
  bool Overlaps(uint64_t start, uint64_t end) const;
  // The block holding `address`, with its start.
  bool Containing(uint64_t address, BlockTree::Hit* hit) const;
  // Adds a block without looking for overlaps.
  void Put(uint64_t start, const LiveBlock& block);
  uint32_t NewSlot(const LiveBlock& block);
  // Sets or recomputes whether tree blocks overlap the pages of [start, end).
  void MarkTreeTouch(uint64_t start, uint64_t end, bool recompute);
  bool TreeTouchesPage(uint64_t page) const;

  PageBlocks pages_;
  BlockTree tree_;
  std::vector<LiveBlock> slab_;  // by slot
  std::vector<uint32_t> free_slots_;
  std::vector<BlockTree::Hit> cut_;              // EraseRange's scratch
  mutable std::vector<BlockTree::Hit> scratch_;  // Overlaps'
  std::vector<std::pair<uint64_t, LiveBlock>> cut_blocks_;
};

}  // namespace tierscope::analyzer
