// Running per-time-bin occupancy of one tier. Fills keep one of these instead of re-adding
// everything placed so far for each candidate: a check or an add costs O(bins), not O(placed·bins).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "tierscope/analyzer/plan.h"

namespace tierscope::analyzer {

class Occupancy {
 public:
  Occupancy(size_t bins, uint64_t capacity) : used_(bins), capacity_(capacity) {}

  // Same test, in the same order of additions, as re-checking the whole chosen set: a set that
  // fits stays fitting, so only the new item's bins can overflow.
  bool Fits(const PlanItem& item) const {
    for (size_t b = 0; b < used_.size(); ++b) {
      if (used_[b] + item.size_by_bin[b] > capacity_) return false;
    }
    return true;
  }
  // Whether the item fits an empty tier at all.
  bool FitsAlone(const PlanItem& item) const {
    for (size_t b = 0; b < used_.size(); ++b) {
      if (item.size_by_bin[b] > capacity_) return false;
    }
    return true;
  }
  void Add(const PlanItem& item) {
    for (size_t b = 0; b < used_.size(); ++b) used_[b] += item.size_by_bin[b];
  }
  // The room the item could have in every bin it is live in (0 when one is full).
  uint64_t Slack(const PlanItem& item) const {
    uint64_t slack = UINT64_MAX;
    for (size_t b = 0; b < used_.size(); ++b) {
      if (item.size_by_bin[b] == 0) continue;
      slack = std::min(slack, used_[b] >= capacity_ ? 0 : capacity_ - used_[b]);
    }
    return slack == UINT64_MAX ? 0 : slack;
  }
  // Adds the item's bytes, at most `cap` in each bin.
  void AddCapped(const PlanItem& item, uint64_t cap) {
    for (size_t b = 0; b < used_.size(); ++b) used_[b] += std::min(item.size_by_bin[b], cap);
  }
  void Remove(const PlanItem& item) {
    for (size_t b = 0; b < used_.size(); ++b) used_[b] -= item.size_by_bin[b];
  }

 private:
  std::vector<uint64_t> used_;
  uint64_t capacity_;
};

inline size_t BinsOf(const std::vector<PlanItem>& items) {
  return items.empty() ? 0 : items[0].size_by_bin.size();
}

}  // namespace tierscope::analyzer
