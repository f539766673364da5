#include "join/live_map.h"

#include <algorithm>

namespace tierscope::analyzer {
namespace {

// Index of the first element > key (std::upper_bound) without branches on the data: the
// comparisons of a search over addresses are unpredictable, and a misprediction per step cost
// more than the steps themselves (perf on join_bench).
template <class T>
int UpperBound(const T* a, int n, T key) {
  if (n == 0) return 0;
  const T* base = a;
  while (n > 1) {
    const int half = n / 2;
    base = base[half] <= key ? base + half : base;
    n -= half;
  }
  return static_cast<int>(base - a) + (*base <= key);
}

// Index of the first element >= key (std::lower_bound), likewise.
int LowerBound(const uint64_t* a, int n, uint64_t key) {
  return key == 0 ? 0 : UpperBound(a, n, key - 1);
}

}  // namespace

size_t LiveMap::LeafOf(uint64_t address) const {
  const int i = UpperBound(mins_.data(), static_cast<int>(mins_.size()), address);
  return i == 0 ? 0 : static_cast<size_t>(i) - 1;
}

void LiveMap::Put(uint64_t start, const LiveBlock& block) {
  if (leaves_.empty()) {
    leaves_.push_back(std::make_unique<Leaf>());
    mins_.push_back(start);
  }
  const size_t l = LeafOf(start);
  const Leaf& leaf = *leaves_[l];
  const int pos = LowerBound(leaf.starts, leaf.n, start);
  if (pos < leaf.n && leaf.starts[pos] == start) return;
  PutAt(l, pos, start, block);
}

void LiveMap::PutAt(size_t l, int pos, uint64_t start, const LiveBlock& block) {
  Leaf* leaf = leaves_[l].get();
  if (leaf->n == kLeaf) {  // split: the upper half moves to a new leaf after this one
    auto right = std::make_unique<Leaf>();
    constexpr int kHalf = kLeaf / 2;
    right->n = kLeaf - kHalf;
    std::copy(leaf->starts + kHalf, leaf->starts + kLeaf, right->starts);
    std::copy(leaf->ends + kHalf, leaf->ends + kLeaf, right->ends);
    std::copy(leaf->slots + kHalf, leaf->slots + kLeaf, right->slots);
    leaf->n = kHalf;
    mins_.insert(mins_.begin() + static_cast<long>(l) + 1, right->starts[0]);
    leaves_.insert(leaves_.begin() + static_cast<long>(l) + 1, std::move(right));
    if (pos > kHalf) {
      ++l;
      pos -= kHalf;
      leaf = leaves_[l].get();
    }
  }
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slab_.size());
    slab_.push_back(block);
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slab_[slot] = block;
  }
  const int n = leaf->n;
  std::copy_backward(leaf->starts + pos, leaf->starts + n, leaf->starts + n + 1);
  std::copy_backward(leaf->ends + pos, leaf->ends + n, leaf->ends + n + 1);
  std::copy_backward(leaf->slots + pos, leaf->slots + n, leaf->slots + n + 1);
  leaf->starts[pos] = start;
  leaf->ends[pos] = block.end;
  leaf->slots[pos] = slot;
  ++leaf->n;
  if (pos == 0) mins_[l] = start;
  ++size_;
}

void LiveMap::RemoveAt(size_t l, int pos) {
  Leaf* leaf = leaves_[l].get();
  free_slots_.push_back(leaf->slots[pos]);
  std::copy(leaf->starts + pos + 1, leaf->starts + leaf->n, leaf->starts + pos);
  std::copy(leaf->ends + pos + 1, leaf->ends + leaf->n, leaf->ends + pos);
  std::copy(leaf->slots + pos + 1, leaf->slots + leaf->n, leaf->slots + pos);
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
    const int n = leaf->n, m = right->n;
    std::copy_backward(right->starts, right->starts + m, right->starts + m + n);
    std::copy_backward(right->ends, right->ends + m, right->ends + m + n);
    std::copy_backward(right->slots, right->slots + m, right->slots + m + n);
    std::copy(leaf->starts, leaf->starts + n, right->starts);
    std::copy(leaf->ends, leaf->ends + n, right->ends);
    std::copy(leaf->slots, leaf->slots + n, right->slots);
    right->n += n;
    mins_.erase(mins_.begin() + static_cast<long>(l));
    leaves_.erase(leaves_.begin() + static_cast<long>(l));
    mins_[l] = leaves_[l]->starts[0];
  }
}

void LiveMap::Insert(uint64_t start, const LiveBlock& block, const OnRemoved& on_removed) {
  if (leaves_.empty()) {
    Put(start, block);
    return;
  }
  // Fast path: nothing overlaps. `next` is the first block at or after start, `prev` the last
  // one before it.
  const size_t l = LeafOf(start);
  const Leaf& leaf = *leaves_[l];
  const int pos = LowerBound(leaf.starts, leaf.n, start);
  const uint64_t* next = pos < leaf.n             ? &leaf.starts[pos]
                         : l + 1 < leaves_.size() ? &leaves_[l + 1]->starts[0]
                                                  : nullptr;
  const uint64_t* prev_end = pos > 0 ? &leaf.ends[pos - 1]
                             : l > 0 ? &leaves_[l - 1]->ends[leaves_[l - 1]->n - 1]
                                     : nullptr;
  const bool overlaps =
      (next && (*next < block.end || *next == start)) || (prev_end && *prev_end > start);
  if (!overlaps) {
    PutAt(l, pos, start, block);
    return;
  }
  EraseRange(start, block.end, on_removed);
  LiveBlock gone;  // an empty block (malloc(0)) at the same address
  if (Erase(start, &gone)) on_removed(start, gone.end, gone);
  Put(start, block);
}

bool LiveMap::Erase(uint64_t start, LiveBlock* removed) {
  if (leaves_.empty()) return false;
  const size_t l = LeafOf(start);
  const Leaf& leaf = *leaves_[l];
  const int pos = LowerBound(leaf.starts, leaf.n, start);
  if (pos == leaf.n || leaf.starts[pos] != start) return false;
  *removed = slab_[leaf.slots[pos]];
  RemoveAt(l, pos);
  return true;
}

void LiveMap::EraseRange(uint64_t start, uint64_t end, const OnRemoved& on_removed) {
  if (leaves_.empty()) return;
  // First the blocks it touches (a block reaching into it from below, then every block starting
  // inside it), then the changes: pieces put back never need a second look.
  cut_.clear();
  size_t l = LeafOf(start);
  int pos = UpperBound(leaves_[l]->starts, leaves_[l]->n, start) - 1;
  if (pos < 0 || leaves_[l]->ends[pos] <= start) ++pos;
  for (;;) {
    if (pos == leaves_[l]->n) {
      if (++l == leaves_.size()) break;
      pos = 0;
    }
    if (leaves_[l]->starts[pos] >= end) break;
    cut_.emplace_back(leaves_[l]->starts[pos], slab_[leaves_[l]->slots[pos]]);
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
  const int pos = UpperBound(leaf.starts, leaf.n, address) - 1;
  if (pos < 0 || address >= leaf.ends[pos]) return nullptr;
  return &slab_[leaf.slots[pos]];
}

}  // namespace tierscope::analyzer
