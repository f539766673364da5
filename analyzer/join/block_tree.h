// Blocks ordered by start address: a B+-tree of height two, sorted leaves of up to kLeaf blocks
// and a sorted vector of each leaf's smallest start. A lookup is two binary searches over
// contiguous memory instead of a walk down ~20 scattered red-black nodes, and an insert moves a
// few cache lines instead of allocating a node; the top vector has one entry per kLeaf/2..kLeaf
// blocks, so even 10M blocks keep it under 2 MiB.
//
// The live map (join/live_map.h) keeps here only the blocks its page index cannot hold: large
// ones, and those at addresses that are not 16-byte aligned. It holds a block's extent and a slot
// number; what the slot stands for is the caller's.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace tierscope::analyzer {

class BlockTree {
 public:
  struct Hit {
    uint64_t start, end;
    uint32_t slot;
  };

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // Adds [start, end); a block already at `start` wins (then false).
  bool Put(uint64_t start, uint64_t end, uint32_t slot);
  // Removes the block starting exactly at `start`. False when there is none.
  bool Remove(uint64_t start, Hit* removed);
  // The block with start <= address < end.
  bool Containing(uint64_t address, Hit* hit) const;
  // Whether a block starts in [lo, hi).
  bool AnyStartIn(uint64_t lo, uint64_t hi) const;
  // Whether a block holds a byte of [lo, hi) or starts in it (an empty block).
  bool Touches(uint64_t lo, uint64_t hi) const {
    Hit h;
    return Containing(lo, &h) || AnyStartIn(lo, hi);
  }
  // Appends the blocks starting in [lo, hi), by start.
  void Collect(uint64_t lo, uint64_t hi, std::vector<Hit>* out) const;

 private:
  static constexpr int kLeaf = 64;
  struct Leaf {
    int n = 0;
    uint64_t starts[kLeaf];
    uint64_t ends[kLeaf];
    uint32_t slots[kLeaf];
  };
  // The leaf that would hold `address`: the last whose smallest start is <= address, else the
  // first. Only with leaves.
  size_t LeafOf(uint64_t address) const;
  void PutAt(size_t l, int pos, uint64_t start, uint64_t end, uint32_t slot);
  void RemoveAt(size_t leaf, int pos);

  std::vector<uint64_t> mins_;  // mins_[i] == leaves_[i]->starts[0]; no leaf is empty
  std::vector<std::unique_ptr<Leaf>> leaves_;
  size_t size_ = 0;
};

}  // namespace tierscope::analyzer
