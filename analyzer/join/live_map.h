// The allocations live at one moment, keyed by address: finds the block holding an address and
// cuts ranges out of blocks (partial munmap). Blocks never overlap.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory_resource>

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
  // The block holding `address`, or null.
  const LiveBlock* Find(uint64_t address) const;

  size_t size() const { return blocks_.size(); }

 private:
  // Every allocation event adds a node and every free drops one: a pool (not thread-safe, like
  // the map) recycles them instead of going through malloc each time.
  std::pmr::unsynchronized_pool_resource pool_;
  std::pmr::map<uint64_t, LiveBlock> blocks_{&pool_};
};

}  // namespace tierscope::analyzer
