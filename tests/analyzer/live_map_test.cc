// The live map against the std::map version it replaced (kept here as the reference): random
// inserts over a small address range (so blocks overlap, share starts and are empty), frees of
// live and unknown starts, partial unmaps, and lookups, compared after every step. Blocks at
// 16-byte aligned addresses of at most a page live in the page index, the others in the tree:
// both, and blocks of one next to the other's, are exercised.
#include "join/live_map.h"

#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <random>
#include <tuple>
#include <vector>

namespace tierscope::analyzer {
namespace {

// The previous implementation, unchanged apart from its name.
class ReferenceLiveMap {
 public:
  void Insert(uint64_t start, const LiveBlock& block, const LiveMap::OnRemoved& on_removed) {
    auto next = blocks_.lower_bound(start);
    bool overlaps = next != blocks_.end() && (next->first < block.end || next->first == start);
    if (!overlaps && next != blocks_.begin()) overlaps = std::prev(next)->second.end > start;
    if (overlaps) {
      EraseRange(start, block.end, on_removed);
      auto same = blocks_.find(start);
      if (same != blocks_.end()) {
        const LiveBlock gone = same->second;
        blocks_.erase(same);
        on_removed(start, gone.end, gone);
      }
    }
    blocks_.emplace_hint(blocks_.lower_bound(start), start, block);
  }
  bool Erase(uint64_t start, LiveBlock* removed) {
    auto it = blocks_.find(start);
    if (it == blocks_.end()) return false;
    *removed = it->second;
    blocks_.erase(it);
    return true;
  }
  void EraseRange(uint64_t start, uint64_t end, const LiveMap::OnRemoved& on_removed) {
    auto it = blocks_.upper_bound(start);
    if (it != blocks_.begin() && std::prev(it)->second.end > start) --it;
    while (it != blocks_.end() && it->first < end) {
      const uint64_t block_start = it->first;
      const LiveBlock block = it->second;
      it = blocks_.erase(it);
      const uint64_t cut_start = block_start > start ? block_start : start;
      const uint64_t cut_end = block.end < end ? block.end : end;
      if (block_start < cut_start) {
        LiveBlock head = block;
        head.end = cut_start;
        blocks_.emplace(block_start, head);
      }
      if (cut_end < block.end) {
        it = blocks_.emplace(cut_end, block).first;
        ++it;
      }
      on_removed(cut_start, cut_end, block);
    }
  }
  const LiveBlock* Find(uint64_t address) const {
    auto it = blocks_.upper_bound(address);
    if (it == blocks_.begin()) return nullptr;
    --it;
    return address < it->second.end ? &it->second : nullptr;
  }
  size_t size() const { return blocks_.size(); }

 private:
  std::map<uint64_t, LiveBlock> blocks_;
};

using Cut = std::tuple<uint64_t, uint64_t, uint64_t>;  // start, end, serial

struct Shape {
  uint64_t span;         // addresses in [0, span)
  uint64_t align;        // of starts
  uint64_t max_size;     // of blocks
  uint64_t large_every;  // one block in this many is up to 4 pages long (0: none)
  uint64_t max_range;    // of partial unmaps
};

// Runs random operations on both maps; returns the peak number of live blocks.
size_t Compare(const Shape& shape) {
  size_t peak = 0;
  std::mt19937_64 rng(shape.span ^ shape.align ^ shape.max_size);
  LiveMap map;
  ReferenceLiveMap ref;
  std::vector<Cut> got, want;
  const LiveMap::OnRemoved to_got = [&](uint64_t s, uint64_t e, const LiveBlock& b) {
    got.emplace_back(s, e, b.serial);
  };
  const LiveMap::OnRemoved to_want = [&](uint64_t s, uint64_t e, const LiveBlock& b) {
    want.emplace_back(s, e, b.serial);
  };
  std::vector<uint64_t> starts;  // some of them still live
  for (uint64_t step = 0; step < 60000; ++step) {
    const uint64_t address = (rng() % shape.span) & ~(shape.align - 1);
    const int op = static_cast<int>(rng() % 100);
    if (op < 55) {
      LiveBlock b;
      const uint64_t size = shape.large_every && rng() % shape.large_every == 0
                                ? 4096 + rng() % (3 * 4096)
                                : 8 + rng() % shape.max_size;
      b.end = address + (rng() % 8 == 0 ? 0 : size);  // some malloc(0)
      b.serial = step;
      map.Insert(address, b, to_got);
      ref.Insert(address, b, to_want);
      starts.push_back(address);
    } else if (op < 90 && !starts.empty()) {
      const uint64_t start = rng() % 4 ? starts[rng() % starts.size()] : address;
      LiveBlock a, b;
      const bool ha = map.Erase(start, &a), hb = ref.Erase(start, &b);
      EXPECT_EQ(ha, hb) << step;
      if (ha != hb) return peak;
      if (ha) {
        EXPECT_EQ(a.serial, b.serial);
      }
    } else if (op < 93) {
      const uint64_t end = address + rng() % shape.max_range;
      map.EraseRange(address, end, to_got);
      ref.EraseRange(address, end, to_want);
    } else {
      for (int k = 0; k < 8; ++k) {
        const uint64_t probe = rng() % (shape.span + 512);
        const LiveBlock* a = map.Find(probe);
        const LiveBlock* b = ref.Find(probe);
        EXPECT_EQ(a == nullptr, b == nullptr) << "step " << step << " address " << probe;
        if ((a == nullptr) != (b == nullptr)) return peak;
        if (a) {
          EXPECT_EQ(a->serial, b->serial);
          EXPECT_EQ(a->end, b->end);
        }
      }
    }
    EXPECT_EQ(map.size(), ref.size()) << step;
    EXPECT_EQ(got, want) << step;
    if (map.size() != ref.size() || got != want) return peak;
    got.clear();
    want.clear();
    peak = std::max(peak, map.size());
  }
  return peak;
}

TEST(LiveMap, BehavesLikeTheStdMapVersion) {
  size_t peak = 0;
  for (uint64_t span : {1u << 12, 1u << 16, 1u << 22}) {  // dense to sparse
    // 8-byte aligned starts: half of them go to the tree, next to page-held ones.
    peak = std::max(peak, Compare({span, 8, 256, 0, 2048}));
  }
  EXPECT_GT(peak, 1000u) << "tree leaves of 64 must split and fold many times";
}

TEST(LiveMap, PagesAndLargeBlocksBehaveLikeTheStdMapVersion) {
  for (uint64_t span : {1u << 14, 1u << 18, 1u << 24}) {
    // Malloc-like: 16-byte aligned, up to a page (the page index), one block in 16 larger
    // (the tree), unmaps across several pages.
    Compare({span, 16, 4096, 16, 5 * 4096});
    // Small blocks packed into few pages, some pages emptied and refilled.
    Compare({span, 16, 64, 64, 512});
  }
}

}  // namespace
}  // namespace tierscope::analyzer
