// The B+-tree live map against the std::map version it replaced (kept here as the reference):
// random inserts over a small address range (so blocks overlap, share starts and are empty),
// frees of live and unknown starts, partial unmaps, and lookups, compared after every step.
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

TEST(LiveMap, BehavesLikeTheStdMapVersion) {
  size_t peak = 0;
  for (uint64_t span : {1u << 12, 1u << 16, 1u << 22}) {  // dense to sparse
    std::mt19937_64 rng(span);
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
      const uint64_t address = (rng() % span) & ~uint64_t(7);
      const int op = static_cast<int>(rng() % 100);
      if (op < 55) {
        LiveBlock b;
        b.end = address + (rng() % 8 == 0 ? 0 : 8 + rng() % 256);  // some malloc(0)
        b.serial = step;
        map.Insert(address, b, to_got);
        ref.Insert(address, b, to_want);
        starts.push_back(address);
      } else if (op < 90 && !starts.empty()) {
        const uint64_t start = rng() % 4 ? starts[rng() % starts.size()] : address;
        LiveBlock a, b;
        const bool ha = map.Erase(start, &a), hb = ref.Erase(start, &b);
        ASSERT_EQ(ha, hb) << step;
        if (ha) {
          EXPECT_EQ(a.serial, b.serial);
        }
      } else if (op < 93) {
        const uint64_t end = address + rng() % 2048;
        map.EraseRange(address, end, to_got);
        ref.EraseRange(address, end, to_want);
      } else {
        for (int k = 0; k < 8; ++k) {
          const uint64_t probe = rng() % (span + 512);
          const LiveBlock* a = map.Find(probe);
          const LiveBlock* b = ref.Find(probe);
          ASSERT_EQ(a == nullptr, b == nullptr) << "step " << step << " address " << probe;
          if (a) {
            ASSERT_EQ(a->serial, b->serial);
            ASSERT_EQ(a->end, b->end);
          }
        }
      }
      ASSERT_EQ(map.size(), ref.size()) << step;
      ASSERT_EQ(got, want) << step;
      got.clear();
      want.clear();
      peak = std::max(peak, map.size());
    }
  }
  EXPECT_GT(peak, 1000u) << "leaves of 64 must split and fold many times";
}

}  // namespace
}  // namespace tierscope::analyzer
