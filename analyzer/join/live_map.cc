#include "join/live_map.h"

#include <algorithm>

namespace tierscope::analyzer {

size_t LiveMap::LeafOf(uint64_t address) const {
  const auto it = std::upper_bound(mins_.begin(), mins_.end(), address);
  return it == mins_.begin() ? 0 : static_cast<size_t>(it - mins_.begin()) - 1;
}

void LiveMap::Put(uint64_t start, const LiveBlock& block) {
  if (leaves_.empty()) {
    leaves_.push_back(std::make_unique<Leaf>());
    mins_.push_back(start);
  }
  size_t l = LeafOf(start);
  Leaf* leaf = leaves_[l].get();
  int pos = static_cast<int>(std::lower_bound(leaf->starts, leaf->starts + leaf->n, start) -
                             leaf->starts);
  if (pos < leaf->n && leaf->starts[pos] == start) return;
  if (leaf->n == kLeaf) {  // split: the upper half moves to a new leaf after this one
    auto right = std::make_unique<Leaf>();
    constexpr int kHalf = kLeaf / 2;
    right->n = kLeaf - kHalf;
    std::copy(leaf->starts + kHalf, leaf->starts + kLeaf, right->starts);
    std::copy(leaf->blocks + kHalf, leaf->blocks + kLeaf, right->blocks);
    leaf->n = kHalf;
    mins_.insert(mins_.begin() + static_cast<long>(l) + 1, right->starts[0]);
    leaves_.insert(leaves_.begin() + static_cast<long>(l) + 1, std::move(right));
    if (pos > kHalf) {
      ++l;
      pos -= kHalf;
      leaf = leaves_[l].get();
    }
  }
  std::copy_backward(leaf->starts + pos, leaf->starts + leaf->n, leaf->starts + leaf->n + 1);
  std::copy_backward(leaf->blocks + pos, leaf->blocks + leaf->n, leaf->blocks + leaf->n + 1);
  leaf->starts[pos] = start;
  leaf->blocks[pos] = block;
  ++leaf->n;
  if (pos == 0) mins_[l] = start;
  ++size_;
}

void LiveMap::RemoveAt(size_t l, int pos) {
  Leaf* leaf = leaves_[l].get();
  std::copy(leaf->starts + pos + 1, leaf->starts + leaf->n, leaf->starts + pos);
  std::copy(leaf->blocks + pos + 1, leaf->blocks + leaf->n, leaf->blocks + pos);
  --leaf->n;
  --size_;
  if (leaf->n == 0) {
    mins_.erase(mins_.begin() + static_cast<long>(l));
    leaves_.erase(leaves_.begin() + static_cast<long>(l));
    return;
  }
  mins_[l] = leaf->starts[0];
  // Keep leaves at least a quarter full, or frees after a peak would leave a long top vector of
  // nearly empty leaves: fold a sparse leaf into its right neighbour when both fit in one.
  if (leaf->n < kLeaf / 4 && l + 1 < leaves_.size() && leaf->n + leaves_[l + 1]->n <= kLeaf) {
    Leaf* right = leaves_[l + 1].get();
    std::copy_backward(right->starts, right->starts + right->n, right->starts + right->n + leaf->n);
    std::copy_backward(right->blocks, right->blocks + right->n, right->blocks + right->n + leaf->n);
    std::copy(leaf->starts, leaf->starts + leaf->n, right->starts);
    std::copy(leaf->blocks, leaf->blocks + leaf->n, right->blocks);
    right->n += leaf->n;
    mins_.erase(mins_.begin() + static_cast<long>(l));
    leaves_.erase(leaves_.begin() + static_cast<long>(l));
    mins_[l] = leaves_[l]->starts[0];
  }
}

void LiveMap::Insert(uint64_t start, const LiveBlock& block, const OnRemoved& on_removed) {
  // Fast path: nothing overlaps. `next` is the first block at or after start, `prev` the last
  // one before it.
  bool overlaps = false;
  if (!leaves_.empty()) {
    const size_t l = LeafOf(start);
    const Leaf& leaf = *leaves_[l];
    const int pos =
        static_cast<int>(std::lower_bound(leaf.starts, leaf.starts + leaf.n, start) - leaf.starts);
    const uint64_t* next = pos < leaf.n             ? &leaf.starts[pos]
                           : l + 1 < leaves_.size() ? &leaves_[l + 1]->starts[0]
                                                    : nullptr;
    const LiveBlock* prev = pos > 0 ? &leaf.blocks[pos - 1]
                            : l > 0 ? &leaves_[l - 1]->blocks[leaves_[l - 1]->n - 1]
                                    : nullptr;
    overlaps = (next && (*next < block.end || *next == start)) || (prev && prev->end > start);
  }
  if (overlaps) {
    EraseRange(start, block.end, on_removed);
    LiveBlock gone;  // an empty block (malloc(0)) at the same address
    if (Erase(start, &gone)) on_removed(start, gone.end, gone);
  }
  Put(start, block);
}

bool LiveMap::Erase(uint64_t start, LiveBlock* removed) {
  if (leaves_.empty()) return false;
  const size_t l = LeafOf(start);
  const Leaf& leaf = *leaves_[l];
  const int pos =
      static_cast<int>(std::lower_bound(leaf.starts, leaf.starts + leaf.n, start) - leaf.starts);
  if (pos == leaf.n || leaf.starts[pos] != start) return false;
  *removed = leaf.blocks[pos];
  RemoveAt(l, pos);
  return true;
}

void LiveMap::EraseRange(uint64_t start, uint64_t end, const OnRemoved& on_removed) {
  if (leaves_.empty()) return;
  // First the blocks it touches (a block reaching into it from below, then every block starting
  // inside it), then the changes: pieces put back never need a second look.
  cut_.clear();
  size_t l = LeafOf(start);
  int pos = static_cast<int>(
                std::upper_bound(leaves_[l]->starts, leaves_[l]->starts + leaves_[l]->n, start) -
                leaves_[l]->starts) -
            1;
  if (pos < 0 || leaves_[l]->blocks[pos].end <= start) ++pos;
  for (;;) {
    if (pos == leaves_[l]->n) {
      if (++l == leaves_.size()) break;
      pos = 0;
    }
    if (leaves_[l]->starts[pos] >= end) break;
    cut_.emplace_back(leaves_[l]->starts[pos], leaves_[l]->blocks[pos]);
    ++pos;
  }
  for (const auto& [block_start, block] : cut_) {
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
  if (leaves_.empty()) return nullptr;
  const Leaf& leaf = *leaves_[LeafOf(address)];
  const int pos =
      static_cast<int>(std::upper_bound(leaf.starts, leaf.starts + leaf.n, address) - leaf.starts) -
      1;
  if (pos < 0) return nullptr;
  return address < leaf.blocks[pos].end ? &leaf.blocks[pos] : nullptr;
}

}  // namespace tierscope::analyzer
