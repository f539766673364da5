// The allocations live at one moment, keyed by address: finds the block holding an address and
// cuts ranges out of blocks (partial munmap). Blocks never overlap.
//
// Every allocator event inserts or erases here and every sample looks up, so this is the join's
// inner loop. A B+-tree of height two: sorted leaves of up to kLeaf blocks and a sorted vector of
// each leaf's smallest start. A lookup is two binary searches over contiguous memory instead of a
// walk down ~20 scattered red-black nodes, and an insert moves a few cache lines instead of
// allocating a node. The top vector has one entry per kLeaf/2..kLeaf blocks, so even 10M live
// blocks keep it under 2 MiB.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

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

  size_t size() const { return size_; }

 private:
  static constexpr int kLeaf = 64;
  // Leaves hold what searches read (starts, ends) and a slot in slab_ for the rest, so inserting
  // and erasing shift 20 bytes per entry, not a whole LiveBlock.
  struct Leaf {
    int n = 0;
    uint64_t starts[kLeaf];
    uint64_t ends[kLeaf];
    uint32_t slots[kLeaf];
  };
  // The leaf that would hold `address`: the last whose smallest start is <= address, else the
  // first. Only with leaves.
  size_t LeafOf(uint64_t address) const;
  // Adds a block without looking for overlaps; a block already at `start` wins.
  void Put(uint64_t start, const LiveBlock& block);
  // Adds it at position `pos` of leaf `l`, where it belongs.
  void PutAt(size_t l, int pos, uint64_t start, const LiveBlock& block);
  void RemoveAt(size_t leaf, int pos);

  std::vector<uint64_t> mins_;  // mins_[i] == leaves_[i]->starts[0]; no leaf is empty
  std::vector<std::unique_ptr<Leaf>> leaves_;
  std::vector<LiveBlock> slab_;
  std::vector<uint32_t> free_slots_;
  size_t size_ = 0;
  std::vector<std::pair<uint64_t, LiveBlock>> cut_;  // EraseRange's scratch
};

}  // namespace tierscope::analyzer
