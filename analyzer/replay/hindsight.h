// The two hindsight bounds of `tierscope evaluate`, gathered while the trace is replayed.
//
// Site x window: allocations of one site (its whole recorded stack) made in one allocation-time
// window form a group, and a group is placed as one: what a placer could reach if it knew each
// site's phases. The figure is a relaxation, so it is an upper bound for every placement that
// treats a group's objects alike: per time bin, a fractional knapsack of the groups' samples
// against their live byte-time, with capacity x bin length as the budget. Keeping a set of groups
// fast at every instant within the capacity keeps their byte-time within the budget, so no such
// placement can beat it.
//
// Site x window, fixed: the same groups, each kept fast or slow for its whole life, as a placer
// that decides at allocation time and never migrates must. The figure is the LP relaxation
// (fixed_group_lp.h) of choosing the groups, with each time bin's byte-time of the chosen ones
// within capacity x bin length: a placement that treats a group's objects alike and never moves
// them meets every bin's budget, so none can beat it. Below the first bound by what only moving
// data between bins (or splitting a group's objects) could gain.
//
// Pages: per time bin, the hottest pages of heap memory up to the fast tier's capacity, moved for
// free at each bin's start: what an ideal page-tiering kernel (TPP, Memtis) could reach at that
// window. Also says how many bytes it would have promoted. With sparse samples it is near 100% by
// construction (a window's few sampled pages all fit), so it comes with its sample density.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sites/site_accumulator.h"

namespace tierscope::analyzer {

class SiteWindowBound {
 public:
  SiteWindowBound(const TimeBins& bins, uint32_t windows);
  // The group of an allocation of `stack_id` at `time_ns`.
  uint32_t GroupOf(uint32_t stack_id, uint64_t time_ns);
  void OnLive(uint32_t group, uint64_t time_ns, int64_t delta_bytes);
  void OnSample(uint32_t group, uint64_t time_ns);
  // Closes every group's last bin at the trace's end; call once, before the values.
  void Finish(uint64_t end_ns);
  // Fast-tier samples of the best group placement, relaxed per time bin, under `capacity` bytes.
  double Value(uint64_t capacity);
  // The same with each group's choice fixed for the whole run; false (and *error) when the LP
  // solver failed.
  bool FixedValue(uint64_t capacity, double* value, std::string* error) const;
  size_t groups() const { return groups_.size(); }
  size_t sampled_groups() const;

 private:
  struct Entry {
    uint32_t samples;
    double byte_ns;
  };
  // Bins [from, to) each held `byte_ns`: a long-lived group costs one run, not one entry per bin,
  // so the memory follows the trace's events, not groups x bins.
  struct Run {
    uint32_t from, to;
    double byte_ns;
  };
  struct Group {
    uint64_t live = 0, last_ns = 0;
    double integral = 0;  // byte-ns since the start
    uint32_t bin = 0;
    double integral_at_bin = 0;  // at the start of `bin`
    uint32_t samples_in_bin = 0;
    uint64_t samples = 0;
    std::vector<Run> occupancy;  // the bins it was live in, in order
  };
  void Advance(Group& g, uint64_t time_ns);
  void CloseBin(Group& g, double byte_ns);

  const TimeBins& bins_;
  uint32_t windows_;
  std::unordered_map<uint64_t, uint32_t> group_of_;
  std::vector<Group> groups_;
  std::vector<std::vector<Entry>> entries_;  // per bin: groups with samples in it
  bool finished_ = false;
};

class PageBound {
 public:
  PageBound(const TimeBins& bins, uint64_t page_bytes, uint64_t capacity);
  void OnSample(uint64_t address, uint64_t time_ns);
  void Finish();
  double fast_samples() const { return fast_; }
  uint64_t migrated_bytes() const { return migrated_; }
  uint32_t sampled_bins() const { return sampled_bins_; }
  size_t fast_pages() const { return fast_pages_; }

 private:
  void CloseBin();

  const TimeBins& bins_;
  uint64_t page_bytes_;
  size_t fast_pages_;
  uint32_t bin_ = 0;
  std::unordered_map<uint64_t, uint32_t> samples_;  // page -> samples in this bin
  std::unordered_set<uint64_t> fast_set_;           // pages fast in the last closed bin
  double fast_ = 0;
  uint64_t migrated_ = 0;
  uint32_t sampled_bins_ = 0;
};

}  // namespace tierscope::analyzer
