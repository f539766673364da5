#include "replay/tier_ledger.h"

#include <algorithm>

namespace tierscope::analyzer {

TierLedger::TierLedger(const std::vector<TierSpec>& tiers, const TimeBins& bins)
    : used_(tiers.size()), peak_(tiers.size()), by_bin_(tiers.size()), bins_(bins) {
  for (const auto& t : tiers) capacity_.push_back(t.capacity_bytes);
  capacity_.back() = 0;  // the last tier takes whatever is left
  for (auto& series : by_bin_) series.assign(bins.count, 0);
}

uint64_t TierLedger::Room(int t) const {
  if (capacity_[t] == 0) return UINT64_MAX;
  return capacity_[t] > used_[t] ? capacity_[t] - used_[t] : 0;
}

int TierLedger::FirstWithRoom(int want, uint64_t bytes) const {
  const int last = tiers() - 1;
  for (int t = std::min(want, last); t < last; ++t) {
    if (Room(t) >= bytes) return t;
  }
  return last;
}

Placement TierLedger::Whole(int want, uint64_t size) const {
  Placement p;
  p.lo = p.hi = static_cast<uint8_t>(FirstWithRoom(want, size));
  return p;
}

Placement TierLedger::Pages(int want, uint64_t size, uint64_t page, uint64_t split_from) const {
  const int last = tiers() - 1;
  want = std::min(want, last);
  if (size < split_from || Room(want) >= size) return Whole(want, size);
  const uint64_t head = Room(want) / page * page;
  if (head == 0) return Whole(want + 1, size);
  Placement p;
  p.split = head;
  p.lo = static_cast<uint8_t>(want);
  p.hi = static_cast<uint8_t>(FirstWithRoom(want + 1, size - head));
  return p;
}

void TierLedger::Change(int tier, uint64_t bytes, bool add) {
  if (bytes == 0) return;
  if (add) {
    used_[tier] += bytes;
    peak_[tier] = std::max(peak_[tier], used_[tier]);
  } else {
    used_[tier] -= std::min(used_[tier], bytes);
  }
}

void TierLedger::Add(const Placement& p, uint64_t from, uint64_t to) {
  const uint64_t cut = std::clamp(p.split, from, to);
  Change(p.lo, cut - from, true);
  Change(p.hi, to - cut, true);
}

void TierLedger::Remove(const Placement& p, uint64_t from, uint64_t to) {
  const uint64_t cut = std::clamp(p.split, from, to);
  Change(p.lo, cut - from, false);
  Change(p.hi, to - cut, false);
}

void TierLedger::AdvanceTo(uint64_t time_ns) {
  const uint32_t now = bins_.Of(time_ns);
  for (; bins_done_ < now; ++bins_done_) {
    for (size_t t = 0; t < used_.size(); ++t) by_bin_[t][bins_done_] = used_[t];
  }
}

void TierLedger::Finish() {
  for (; bins_done_ < bins_.count; ++bins_done_) {
    for (size_t t = 0; t < used_.size(); ++t) by_bin_[t][bins_done_] = used_[t];
  }
}

}  // namespace tierscope::analyzer
