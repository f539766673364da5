// What one placement policy has put on each tier while a trace is replayed: bytes per tier now,
// their peak and their value at the end of each time bin, and where a new block fits. A block is
// placed whole on one tier, or (page by page, for large blocks) split once: its first `split`
// bytes on `lo`, the rest on `hi`. Frees give the room back.
#pragma once

#include <cstdint>
#include <vector>

#include "sites/site_accumulator.h"
#include "tierscope/analyzer/tiers.h"

namespace tierscope::analyzer {

struct Placement {
  uint64_t split = UINT64_MAX;  // bytes [0, split) on lo, [split, size) on hi
  uint8_t lo = 0, hi = 0;
  bool by_default = false;  // the kernel's placement (first-touch), not a tier chosen for it
  int32_t quota = -1;       // the site quota counter its bytes on `lo` count against
  uint8_t TierAt(uint64_t offset) const { return offset < split ? lo : hi; }
};

class TierLedger {
 public:
  TierLedger(const std::vector<TierSpec>& tiers, const TimeBins& bins);

  // Bytes tier t can still take (UINT64_MAX for the unlimited last tier).
  uint64_t Room(int t) const;
  // The first tier from `want` on with room for `bytes` (the last tier always has room).
  int FirstWithRoom(int want, uint64_t bytes) const;
  // Whole on the first tier from `want` with room.
  Placement Whole(int want, uint64_t size) const;
  // Page by page from `want`: as many whole pages as tier `want` has room for, the rest whole on
  // the next tier with room. Blocks below `split_from` bytes go whole.
  Placement Pages(int want, uint64_t size, uint64_t page, uint64_t split_from) const;

  // Bytes [from, to) of a block placed as `p` start (add) or stop (remove) being live.
  void Add(const Placement& p, uint64_t from, uint64_t to);
  void Remove(const Placement& p, uint64_t from, uint64_t to);
  // Records the end-of-bin values of every bin that ended before `time_ns`.
  void AdvanceTo(uint64_t time_ns);
  void Finish();

  int tiers() const { return static_cast<int>(capacity_.size()); }
  const std::vector<uint64_t>& peak() const { return peak_; }
  const std::vector<std::vector<uint64_t>>& by_bin() const { return by_bin_; }

 private:
  void Change(int tier, uint64_t bytes, bool add);

  std::vector<uint64_t> capacity_;  // 0: unlimited
  std::vector<uint64_t> used_, peak_;
  std::vector<std::vector<uint64_t>> by_bin_;  // [tier][bin]
  const TimeBins& bins_;
  uint32_t bins_done_ = 0;
};

}  // namespace tierscope::analyzer
