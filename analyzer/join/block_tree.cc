#include "join/block_tree.h"

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

size_t BlockTree::LeafOf(uint64_t address) const {
  const int i = UpperBound(mins_.data(), static_cast<int>(mins_.size()), address);
  return i == 0 ? 0 : static_cast<size_t>(i) - 1;
}

bool BlockTree::Put(uint64_t start, uint64_t end, uint32_t slot) {
  if (leaves_.empty()) {
    leaves_.push_back(std::make_unique<Leaf>());
    mins_.push_back(start);
  }
  const size_t l = LeafOf(start);
  const Leaf& leaf = *leaves_[l];
  const int pos = LowerBound(leaf.starts, leaf.n, start);
  if (pos < leaf.n && leaf.starts[pos] == start) return false;
  PutAt(l, pos, start, end, slot);
  return true;
}

void BlockTree::PutAt(size_t l, int pos, uint64_t start, uint64_t end, uint32_t slot) {
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
  const int n = leaf->n;
  std::copy_backward(leaf->starts + pos, leaf->starts + n, leaf->starts + n + 1);
  std::copy_backward(leaf->ends + pos, leaf->ends + n, leaf->ends + n + 1);
  std::copy_backward(leaf->slots + pos, leaf->slots + n, leaf->slots + n + 1);
  leaf->starts[pos] = start;
  leaf->ends[pos] = end;
  leaf->slots[pos] = slot;
  ++leaf->n;
  if (pos == 0) mins_[l] = start;
  ++size_;
}

void BlockTree::RemoveAt(size_t l, int pos) {
  Leaf* leaf = leaves_[l].get();
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

bool BlockTree::Remove(uint64_t start, Hit* removed) {
  if (leaves_.empty()) return false;
  const size_t l = LeafOf(start);
  const Leaf& leaf = *leaves_[l];
  const int pos = LowerBound(leaf.starts, leaf.n, start);
  if (pos == leaf.n || leaf.starts[pos] != start) return false;
  *removed = {start, leaf.ends[pos], leaf.slots[pos]};
  RemoveAt(l, pos);
  return true;
}

bool BlockTree::Containing(uint64_t address, Hit* hit) const {
  if (leaves_.empty()) return false;
  const Leaf& leaf = *leaves_[LeafOf(address)];
  const int pos = UpperBound(leaf.starts, leaf.n, address) - 1;
  if (pos < 0 || address >= leaf.ends[pos]) return false;
  *hit = {leaf.starts[pos], leaf.ends[pos], leaf.slots[pos]};
  return true;
}

bool BlockTree::AnyStartIn(uint64_t lo, uint64_t hi) const {
  if (leaves_.empty() || hi <= lo) return false;
  size_t l = LeafOf(lo);
  int pos = LowerBound(leaves_[l]->starts, leaves_[l]->n, lo);
  if (pos == leaves_[l]->n) {
    if (++l == leaves_.size()) return false;
    pos = 0;
  }
  return leaves_[l]->starts[pos] < hi;
}

void BlockTree::Collect(uint64_t lo, uint64_t hi, std::vector<Hit>* out) const {
  if (leaves_.empty() || hi <= lo) return;
  size_t l = LeafOf(lo);
  int pos = LowerBound(leaves_[l]->starts, leaves_[l]->n, lo);
  for (;;) {
    if (pos == leaves_[l]->n) {
      if (++l == leaves_.size()) return;
      pos = 0;
    }
    const Leaf& leaf = *leaves_[l];
    if (leaf.starts[pos] >= hi) return;
    out->push_back({leaf.starts[pos], leaf.ends[pos], leaf.slots[pos]});
    ++pos;
  }
}

}  // namespace tierscope::analyzer
