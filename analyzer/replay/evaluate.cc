// `tierscope evaluate`'s replay: one pass over a trace in time order (the join's EventMerger),
// every policy placing each block as it is allocated and giving the room back as it is freed, and
// each heap sample credited to the tier that holds the byte it hit under each policy.
#include <algorithm>
#include <array>
#include <filesystem>
#include <memory>
#include <unordered_map>

#include "join/event_merger.h"
#include "join/live_map.h"
#include "join/trace_index.h"
#include "replay/hindsight.h"
#include "replay/indexed_replay.h"
#include "replay/plan_decisions.h"
#include "replay/tier_ledger.h"
#include "sites/module_index.h"
#include "tierscope/analyzer/evaluate.h"
#include "tierscope/analyzer/report.h"
#include "tierscope/common/site_key.h"
#include "tierscope/common/split_blocks.h"
#include "tierscope/formats/alloc_columns.h"

namespace tierscope::analyzer {
namespace {

enum Policy : int { kPlan, kFirstTouch, kInterleave, kSizeThreshold, kRandomSites, kPolicies };

const char* const kNames[kPolicies] = {"tierscope", "first-touch", "interleave", "size-threshold",
                                       "random-sites"};
const char* const kDescriptions[kPolicies] = {
    "the plan as the placer enforces it: site keys at the plan's depth, unknown sites on the "
    "plan's default tier, quotas, a full tier spills to the next (a block from 1 MiB splits: its "
    "first pages take the room left), a realloc from an unknown site and an mremap keep the "
    "block's "
    "tier",
    "the kernel's default: a block (page by page when large) goes fast while the fast tier has "
    "room; a free gives the room back",
    "pages spread over the tiers in proportion to their capacities (the slowest tier weighs the "
    "peak heap left over)",
    "memtier's policy: allocations up to the size threshold go fast while they fit",
    "control: the planner's fill with sites in random order instead of by temperature"};

constexpr uint32_t kNoSite = UINT32_MAX;

// What a recorded stack means for the replay, computed once per stack id.
struct StackInfo {
  uint32_t site = kNoSite;  // index into the replay's sites (the plan's key)
  PlanDecisions::Decision plan, random;
};

// One live allocation (or mapping, whose pieces share it). Its placement under each policy is
// kept beside it (Replay::PlaceOf), for the policies a replay can run only: a plan-only replay
// holds millions of these, and its slots are half the size of a full one's.
struct Slot {
  uint64_t origin = 0, remaining = 0;
  uint32_t site = 0, group = 0;
};

// A realloc's (or mremap's) old block, between its release and its new block in the same stream.
struct Pending {
  bool valid = false;
  std::array<Placement, kPolicies> place;
};

struct SiteTally {
  uint64_t key = 0;
  const profile::Site* planned = nullptr;
  bool known = false;
  int tier = PlanDecisions::kDefault;
  uint64_t quota = 0;
  uint64_t first_frame = 0;
  uint64_t allocations = 0, bytes = 0, samples = 0;
  std::array<double, kPolicies> fast{};
};

class Replay {
 public:
  Replay(const TraceIndex& trace, const std::string& path, const profile::ProfileChunk& planned,
         const profile::ProfileChunk* random_plan, const EvaluateOptions& options,
         EvaluationResult* out)
      : trace_(trace),
        path_(path),
        options_(options),
        tiers_(options.tiers),
        out_(*out),
        bins_(BinsOf(trace, options.bins, &end_ns_)),
        modules_(trace.modules),
        plan_(planned, tiers_),
        site_window_(bins_, options.site_windows),
        pages_(bins_, options.page_bytes, tiers_.size() > 1 ? tiers_[0].capacity_bytes : 0),
        pending_(trace.streams) {
    out_.bin_ns = bins_.bin_ns;
    out_.duration_ns = end_ns_ - bins_.start_ns;
    out_.site_depth = plan_.depth();
    static_assert(kPlan == 0 && kFirstTouch == 1, "plan-only replays keep the first two");
    stride_ = options.plan_only ? 2 : kPolicies;
    if (random_plan) random_.emplace(*random_plan, tiers_);
    quota_used_[kPlan].assign(plan_.quotas(), 0);
    if (random_) quota_used_[kRandomSites].assign(random_->quotas(), 0);
    for (int p = 0; p < kPolicies; ++p) ledgers_.emplace_back(tiers_, bins_);
    // Interleave weights: the limited tiers' capacities, the last tier what the peak leaves.
    uint64_t limited = 0;
    for (size_t t = 0; t + 1 < tiers_.size(); ++t) {
      weight_.push_back(double(tiers_[t].capacity_bytes));
      limited += tiers_[t].capacity_bytes;
    }
    weight_.push_back(out_.peak_heap_bytes > limited ? double(out_.peak_heap_bytes - limited) : 0);
    double total = 0;
    for (double w : weight_) total += w;
    if (total <= 0) weight_.assign(tiers_.size(), 1);
    credit_.assign(tiers_.size(), 0);
  }

  void Run();

 private:
  // Policies this replay runs: every one, or (plan_only) the plan alone, with first-touch when
  // asked.
  bool Active(int p) const {
    if (options_.plan_only) return p == kPlan || (p == kFirstTouch && options_.with_first_touch);
    return p == kPlan || p != kRandomSites || random_;
  }
  const StackInfo& InfoOf(uint32_t stack_id);
  // The placements of a slot, one per policy below stride_.
  Placement* PlaceOf(uint32_t slot) { return &placements_[size_t(slot) * stride_]; }
  Placement Place(int policy, const formats::AllocEvent& e, const StackInfo& info,
                  const Pending* kept);
  // `heap`: a heap block, which the placer may split (its mappings it places whole).
  Placement Planned(int policy, int tier, uint64_t size, bool heap);
  Placement WithQuota(int policy, const PlanDecisions::Decision& d, uint64_t size, bool heap);
  Placement Interleaved(uint64_t size);
  void OnAlloc(const JoinEvent& e, bool mapping);
  void OnRemoved(uint64_t start, uint64_t end, const LiveBlock& block, bool keep);
  void OnSample(const JoinEvent& e);
  void FreeSlot(uint32_t slot);
  void Finish();

  const TraceIndex& trace_;
  const std::string& path_;
  const EvaluateOptions& options_;
  const std::vector<TierSpec>& tiers_;
  EvaluationResult& out_;
  uint64_t end_ns_ = 0;
  TimeBins bins_;
  ModuleIndex modules_;
  PlanDecisions plan_;
  std::optional<PlanDecisions> random_;
  SiteWindowBound site_window_;
  PageBound pages_;
  std::vector<TierLedger> ledgers_;
  std::vector<double> weight_, credit_;
  std::vector<Pending> pending_;
  LiveMap live_;
  std::vector<Slot> slots_;
  // Policies with a placement per slot: every one, or (plan_only) the plan and first-touch, the
  // first two (Active).
  size_t stride_ = 0;
  std::vector<Placement> placements_;
  std::vector<uint32_t> free_slots_;
  std::array<std::vector<uint64_t>, kPolicies> quota_used_;  // per plan policy, per quota
  std::vector<StackInfo> stack_info_;
  std::vector<bool> stack_known_;
  std::unordered_map<uint64_t, uint32_t> site_of_key_;
  std::vector<SiteTally> sites_;
  std::array<double, kPolicies> fast_{}, stall_{};
  std::array<uint64_t, kPolicies> spilled_{}, split_{};
  std::array<std::vector<uint64_t>, kPolicies> allocations_by_tier_;
  uint64_t now_ = 0;
  uint64_t next_bin_ns_ = 0;  // start of the time bin after the last event's
  uint32_t stream_ = 0;
};

const StackInfo& Replay::InfoOf(uint32_t stack_id) {
  if (stack_id >= stack_known_.size()) {
    // Stack ids are dense from 1 in the recorder's traces; a foreign trace's huge ids cost memory
    // proportional to the largest, bounded here.
    if (stack_id > (1u << 24)) stack_id = 0;
    stack_known_.resize(std::max<size_t>(stack_id + 1, stack_known_.size() * 2), false);
    stack_info_.resize(stack_known_.size());
  }
  StackInfo& info = stack_info_[stack_id];
  if (stack_known_[stack_id]) return info;
  stack_known_[stack_id] = true;
  std::vector<uint64_t> frames;
  if (auto it = trace_.stacks.find(stack_id); it != trace_.stacks.end()) {
    frames.assign(it->second.frames().begin(), it->second.frames().end());
  }
  const uint64_t key = plan_.KeyOf(frames, modules_);
  const PlanDecisions::Decision d = plan_.DecideStack(frames, modules_);
  info.plan = d;
  if (random_) info.random = random_->DecideStack(frames, modules_);
  auto [it, added] = site_of_key_.emplace(key, static_cast<uint32_t>(sites_.size()));
  if (added) {
    SiteTally s;
    s.key = key;
    s.planned = d.site;
    s.known = d.known;
    s.tier = d.tier;
    s.quota = d.quota;
    s.first_frame = frames.empty() ? 0 : frames[0];
    sites_.push_back(s);
  }
  info.site = it->second;
  return info;
}

// A tier chosen for the block (whole, spilling down when full), or the kernel's placement.
Placement Replay::Planned(int policy, int tier, uint64_t size, bool heap) {
  TierLedger& ledger = ledgers_[policy];
  Placement p;
  if (tier == PlanDecisions::kDefault) {
    p = ledger.Pages(0, size, options_.page_bytes, options_.page_split_bytes);
    p.by_default = true;
    return p;
  }
  p = ledger.Whole(tier, size);
  if (p.lo != tier && heap && size >= common::kSplitFromBytes) {
    const uint64_t head = ledger.Room(tier) / common::kSplitPageBytes * common::kSplitPageBytes;
    if (head >= common::kMinSplitHeadBytes) {
      p.split = head;
      p.lo = static_cast<uint8_t>(tier);
      p.hi = static_cast<uint8_t>(ledger.FirstWithRoom(tier + 1, size - head));
      ++split_[policy];
      return p;
    }
  }
  if (p.lo != tier) ++spilled_[policy];
  return p;
}

// A site with a quota: its blocks take the tier while the site's live bytes there stay within the
// quota, then the next tier (planned, not a spill).
Placement Replay::WithQuota(int policy, const PlanDecisions::Decision& d, uint64_t size,
                            bool heap) {
  if (d.quota == 0 || d.tier == PlanDecisions::kDefault) return Planned(policy, d.tier, size, heap);
  uint64_t& used = quota_used_[policy][d.quota_id];
  if (used + size > d.quota) {
    const int next = std::min<int>(d.tier + 1, static_cast<int>(tiers_.size()) - 1);
    return Planned(policy, next, size, heap);
  }
  Placement p = Planned(policy, d.tier, size, heap);
  // A split block is not the quota arena's: the placer counts it against the tier alone.
  if (p.lo == d.tier && p.split == UINT64_MAX) {
    p.quota = static_cast<int32_t>(d.quota_id);
    used += size;
  }
  return p;
}

// Smooth weighted round robin for blocks placed whole; large blocks split by weight.
Placement Replay::Interleaved(uint64_t size) {
  TierLedger& ledger = ledgers_[kInterleave];
  double total = 0;
  for (double w : weight_) total += w;
  if (size >= options_.page_split_bytes && tiers_.size() > 1) {
    const uint64_t page = options_.page_bytes;
    uint64_t head = uint64_t(double(size) * weight_[0] / total) / page * page;
    head = std::min(head, ledger.Room(0) / page * page);
    if (head == 0) return ledger.Whole(1, size);
    if (head >= size) return ledger.Whole(0, size);
    Placement p;
    p.split = head;
    p.lo = 0;
    p.hi = static_cast<uint8_t>(ledger.FirstWithRoom(1, size - head));
    return p;
  }
  size_t pick = 0;
  for (size_t t = 0; t < credit_.size(); ++t) {
    credit_[t] += weight_[t];
    if (credit_[t] > credit_[pick]) pick = t;
  }
  credit_[pick] -= total;
  Placement p = ledger.Whole(static_cast<int>(pick), size);
  if (p.lo != pick) ++spilled_[kInterleave];
  return p;
}

Placement Replay::Place(int policy, const formats::AllocEvent& e, const StackInfo& info,
                        const Pending* kept) {
  const uint64_t size = e.size;
  const bool heap = e.kind != trace::MMAP && e.kind != trace::MREMAP;
  switch (policy) {
    case kPlan:
    case kRandomSites: {
      // A realloc from a site the plan names goes where the plan says, like any allocation
      // from it (the analyzer credits the new block to that site); from a site it does not
      // name, the block keeps its tier. An mremap always keeps it: the kernel carries the
      // mapping's memory policy along, and the placer leaves it so (placer/src/mmap_placement.cc).
      const PlanDecisions::Decision& d = policy == kPlan ? info.plan : info.random;
      if (kept && (!d.known || e.kind == trace::MREMAP)) {
        const Placement& old = kept->place[policy];
        return Planned(policy, old.by_default ? PlanDecisions::kDefault : old.lo, size, heap);
      }
      const PlanDecisions& plan = policy == kPlan ? plan_ : *random_;
      if (size < plan.min_size()) return Planned(policy, PlanDecisions::kDefault, size, heap);
      return WithQuota(policy, d, size, heap);
    }
    case kFirstTouch:
      return ledgers_[policy].Pages(0, size, options_.page_bytes, options_.page_split_bytes);
    case kInterleave:
      return Interleaved(size);
    case kSizeThreshold: {
      Placement p = ledgers_[policy].Whole(size <= options_.size_threshold ? 0 : 1, size);
      if (size <= options_.size_threshold && p.lo != 0) ++spilled_[policy];
      return p;
    }
  }
  return {};
}

void Replay::OnAlloc(const JoinEvent& e, bool mapping) {
  const StackInfo info = InfoOf(e.stack_id);
  const auto kind = static_cast<trace::EventKind>(e.kind);
  Pending* kept = nullptr;
  if ((kind == trace::REALLOC || kind == trace::MREMAP) && pending_[stream_].valid) {
    kept = &pending_[stream_];
  }
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
    placements_.resize(slots_.size() * stride_);
  }
  // Whatever overlapped the new block is gone first (its release was not seen): its room is back.
  LiveBlock block;
  block.end = e.address + e.size;
  block.site = info.site;
  block.alloc_time_ns = e.time_ns;
  block.serial = slot;
  block.mapping = mapping;
  live_.Insert(e.address, block, [&](uint64_t start, uint64_t end, const LiveBlock& old) {
    OnRemoved(start, end, old, false);
  });

  const formats::AllocEvent event{e.time_ns, kind, e.address, e.size, e.stack_id};
  Slot s;
  s.origin = e.address;
  s.remaining = e.size;
  s.site = info.site;
  if (!options_.plan_only) s.group = site_window_.GroupOf(e.stack_id, e.time_ns);
  Placement* place = PlaceOf(slot);
  for (int p = 0; p < kPolicies; ++p) {
    if (!Active(p)) continue;
    place[p] = Place(p, event, info, kept);
    ledgers_[p].Add(place[p], 0, e.size);
    auto& counts = allocations_by_tier_[p];
    if (counts.empty()) counts.assign(tiers_.size() + 1, 0);
    ++counts[place[p].by_default ? tiers_.size() : place[p].lo];
  }
  if (kept) kept->valid = false;
  slots_[slot] = s;
  if (!options_.plan_only) site_window_.OnLive(s.group, e.time_ns, int64_t(e.size));
  SiteTally& site = sites_[info.site];
  ++site.allocations;
  site.bytes += e.size;
  ++out_.allocations;
  if (site.known) ++out_.planned_allocations;
}

void Replay::FreeSlot(uint32_t slot) {
  free_slots_.push_back(slot);
}

// A piece [start, end) of a block stops being live. `keep`: a realloc's or mremap's old block,
// whose placement the new one takes over.
void Replay::OnRemoved(uint64_t start, uint64_t end, const LiveBlock& block, bool keep) {
  const uint32_t id = static_cast<uint32_t>(block.serial);
  Slot& s = slots_[id];
  const uint64_t from = start - s.origin, to = end - s.origin;
  const Placement* place = PlaceOf(id);
  for (int p = 0; p < kPolicies; ++p) {
    if (!Active(p)) continue;
    ledgers_[p].Remove(place[p], from, to);
    if (place[p].quota >= 0) {
      uint64_t& used = quota_used_[p][size_t(place[p].quota)];
      used -= std::min(used, to - from);
    }
  }
  if (!options_.plan_only) site_window_.OnLive(s.group, now_, -int64_t(end - start));
  if (keep) {
    pending_[stream_].valid = true;
    std::copy(place, place + stride_, pending_[stream_].place.begin());
  }
  s.remaining -= std::min(s.remaining, end - start);
  if (s.remaining == 0) FreeSlot(id);
}

void Replay::OnSample(const JoinEvent& e) {
  ++out_.total_samples;
  const LiveBlock* block = live_.Find(e.address);
  if (!block) return;
  ++out_.heap_samples;
  const Slot& s = slots_[block->serial];
  const Placement* place = PlaceOf(static_cast<uint32_t>(block->serial));
  const uint64_t offset = e.address - s.origin;
  SiteTally& site = sites_[s.site];
  ++site.samples;
  for (int p = 0; p < kPolicies; ++p) {
    if (!Active(p)) continue;
    const uint8_t tier = place[p].TierAt(offset);
    if (tier == 0) {
      fast_[p] += 1;
      site.fast[p] += 1;
    }
    stall_[p] += tiers_[tier].latency_ns * out_.accesses_per_sample;
  }
  if (options_.plan_only) return;
  site_window_.OnSample(s.group, e.time_ns);
  pages_.OnSample(e.address, e.time_ns);
}

void Replay::Run() {
  EventMerger merger(trace_, path_, options_.read_ahead ? ReadAhead::kThread : ReadAhead::kNone);
  const uint64_t n = std::max<uint64_t>(1, trace_.event_count);
  uint64_t i = 0;
  const LiveMap::OnRemoved removed = [&](uint64_t s, uint64_t e, const LiveBlock& b) {
    OnRemoved(s, e, b, false);
  };
  const LiveMap::OnRemoved removed_keep = [&](uint64_t s, uint64_t e, const LiveBlock& b) {
    OnRemoved(s, e, b, true);
  };
  while (const JoinEvent* next = merger.Next()) {
    const JoinEvent& e = *next;
    now_ = e.time_ns;
    stream_ = merger.stream();
    if ((++i & 0xffff) == 0) {
      if (options_.cancel && options_.cancel->load(std::memory_order_relaxed)) {
        out_.cancelled = true;
        return;
      }
      if (options_.progress) options_.progress(double(i) / double(n));
    }
    // The ledgers close a time bin only when an event lies past it: one compare per event, not a
    // division per ledger.
    if (e.time_ns >= next_bin_ns_) {
      for (auto& ledger : ledgers_) ledger.AdvanceTo(e.time_ns);
      const uint32_t bin = bins_.Of(e.time_ns);
      next_bin_ns_ =
          bin + 1 >= bins_.count ? UINT64_MAX : bins_.start_ns + uint64_t(bin + 1) * bins_.bin_ns;
    }
    if (e.kind == kSampleKind) {
      OnSample(e);
      continue;
    }
    const auto kind = static_cast<trace::EventKind>(e.kind);
    if (formats::KindIsAllocation(kind)) {
      OnAlloc(e, kind == trace::MMAP || kind == trace::MREMAP);
      continue;
    }
    if (!formats::KindIsRelease(kind)) continue;
    if (kind == trace::MUNMAP || kind == trace::MREMAP_UNMAP) {
      live_.EraseRange(e.address, e.address + e.size,
                       kind == trace::MREMAP_UNMAP ? removed_keep : removed);
      continue;
    }
    if (e.address == 0) continue;  // free(NULL)
    LiveBlock block;
    const uint64_t start = e.address;
    if (live_.Erase(start, &block)) OnRemoved(start, block.end, block, kind == trace::REALLOC_FREE);
  }
  if (merger.error() && !out_.error) out_.error = merger.error();
  Finish();
}

void Replay::Finish() {
  for (auto& ledger : ledgers_) ledger.Finish();
  if (!options_.plan_only) pages_.Finish();
  const double heap = double(out_.heap_samples);
  const double fast_latency = tiers_[0].latency_ns;
  const double next_latency = tiers_.size() > 1 ? tiers_[1].latency_ns : fast_latency;
  auto share = [&](double fast) { return heap > 0 ? fast / heap : 0; };
  for (int p = 0; p < kPolicies; ++p) {
    if (!Active(p)) continue;
    PolicyResult r;
    r.name = kNames[p];
    r.description = kDescriptions[p];
    r.fast_samples = fast_[p];
    r.fast_share = share(fast_[p]);
    r.stall_ns = stall_[p];
    r.peak_bytes = ledgers_[p].peak();
    r.bytes_by_bin = ledgers_[p].by_bin();
    r.spilled_allocations = spilled_[p];
    r.split_allocations = split_[p];
    r.allocations_by_tier = allocations_by_tier_[p];
    out_.policies.push_back(std::move(r));
  }
  if (options_.plan_only) return;
  const uint64_t fast_capacity = tiers_.size() > 1 ? tiers_[0].capacity_bytes : UINT64_MAX;
  auto bound = [&](const char* name, double fast, std::string description) {
    PolicyResult r;
    r.name = name;
    r.kind = "bound";
    r.description = std::move(description);
    r.fast_samples = std::min(fast, heap);
    r.fast_share = share(r.fast_samples);
    r.stall_ns = (r.fast_samples * fast_latency + (heap - r.fast_samples) * next_latency) *
                 out_.accesses_per_sample;
    return r;
  };
  site_window_.Finish(end_ns_);
  const double group_value = tiers_.size() > 1 ? site_window_.Value(fast_capacity) : heap;
  const std::string groups = "groups of what one site (whole stack) allocates in one of " +
                             std::to_string(options_.site_windows) + " time windows (" +
                             std::to_string(site_window_.groups()) + " groups, " +
                             std::to_string(site_window_.sampled_groups()) + " with samples)";
  out_.policies.push_back(bound("hindsight-site-window", group_value,
                                "upper bound for placements that treat alike the objects of " +
                                    groups + ", each time bin chosen anew (as if moved for free)"));
  double fixed_value = heap;
  std::string lp_error;
  const bool fixed_solved =
      tiers_.size() < 2 || site_window_.FixedValue(fast_capacity, &fixed_value, &lp_error);
  // A failed LP leaves the looser bound, which still holds, and says so.
  if (!fixed_solved) fixed_value = group_value;
  out_.policies.push_back(bound(
      "hindsight-site-window-fixed", fixed_value,
      "upper bound for placements that treat alike the objects of " + groups +
          " and never move them: the linear relaxation of keeping a set of groups fast for their "
          "whole life within the fast tier's byte-time in every time bin (a quota, which keeps a "
          "site's first blocks fast and not the rest, is outside that premise)" +
          (fixed_solved ? "" : "; " + lp_error + ", so this is the per-bin bound")));
  PolicyResult pages =
      bound("hindsight-pages", tiers_.size() > 1 ? pages_.fast_samples() : heap,
            "an ideal page-tiering kernel with hindsight: per time bin the hottest " +
                std::to_string(options_.page_bytes) + "-byte pages up to the fast capacity (" +
                std::to_string(pages_.fast_pages()) + " pages), migrated for free; rests on " +
                std::to_string(out_.heap_samples) + " samples in " +
                std::to_string(pages_.sampled_bins()) +
                " bins: where a bin has fewer sampled pages than fit, it is ~100% by construction");
  pages.migrated_bytes = pages_.migrated_bytes();
  out_.policies.push_back(std::move(pages));

  // Sites, hottest first.
  std::vector<size_t> order(sites_.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sites_[a].samples > sites_[b].samples; });
  out_.sites_seen = sites_.size();
  for (size_t k : order) {
    const SiteTally& t = sites_[k];
    if (t.known) ++out_.sites_planned_seen;
    EvaluatedSite site;
    if (t.planned && t.planned->stack_size() > 0) {
      site.label = FrameName(t.planned->stack(0));
      site.profile_site = t.planned->id();
    } else {
      const int m = modules_.Find(t.first_frame);
      site.label = m < 0 ? FormatHex(t.first_frame)
                         : std::string(common::BaseName(modules_.modules()[m].path())) + "+" +
                               FormatHex(t.first_frame - modules_.modules()[m].load_bias());
    }
    const std::string tier =
        t.tier == PlanDecisions::kDefault ? "default" : tiers_[size_t(t.tier)].name;
    site.planned_tier = t.known ? tier : "(not in plan: " + tier + ")";
    if (t.quota) site.planned_tier += " " + FormatBytes(double(t.quota)) + " quota";
    site.allocations = t.allocations;
    site.bytes = t.bytes;
    site.samples = t.samples;
    for (int p = 0; p < kPolicies; ++p) {
      if (!Active(p)) continue;
      site.fast_samples.push_back(t.fast[p]);
    }
    out_.sites.push_back(std::move(site));
  }
}

}  // namespace

Footprint MeasureFootprint(const std::string& trace_path, const std::atomic<bool>* cancel) {
  TraceIndex trace = IndexTrace(trace_path, {cancel, {}});
  if (trace.cancelled) return Footprint{};
  return MeasureFootprintIndexed(trace, trace_path, cancel);
}

Footprint MeasureFootprintIndexed(const TraceIndex& trace, const std::string& trace_path,
                                  const std::atomic<bool>* cancel) {
  Footprint result;
  result.error = trace.error;
  uint64_t end = 0;
  const TimeBins bins = BinsOf(trace, 1, &end);
  result.duration_ns = end - bins.start_ns;
  EventMerger merger(trace, trace_path);
  LiveMap live;
  uint64_t bytes = 0;
  const LiveMap::OnRemoved removed = [&](uint64_t s, uint64_t e, const LiveBlock&) {
    bytes -= std::min(bytes, e - s);
  };
  uint64_t seen = 0;
  while (const JoinEvent* e = merger.Next()) {
    if ((++seen & 0xffff) == 0 && cancel && cancel->load(std::memory_order_relaxed)) break;
    if (e->kind == kSampleKind) continue;
    const auto kind = static_cast<trace::EventKind>(e->kind);
    if (formats::KindIsAllocation(kind)) {
      LiveBlock block;
      block.end = e->address + e->size;
      block.mapping = kind == trace::MMAP || kind == trace::MREMAP;
      live.Insert(e->address, block, removed);
      bytes += e->size;
      result.peak_heap_bytes = std::max(result.peak_heap_bytes, bytes);
    } else if (kind == trace::MUNMAP || kind == trace::MREMAP_UNMAP) {
      live.EraseRange(e->address, e->address + e->size, removed);
    } else if (formats::KindIsRelease(kind) && e->address != 0) {
      LiveBlock block;
      if (live.Erase(e->address, &block)) bytes -= std::min(bytes, block.end - e->address);
    }
  }
  if (merger.error() && !result.error) result.error = merger.error();
  return result;
}

EvaluationResult Evaluate(const std::string& trace_path, const profile::ProfileChunk& planned,
                          const profile::ProfileChunk* random_plan,
                          const EvaluateOptions& options) {
  if (options.tiers.empty())
    return EvaluateIndexed(TraceIndex{}, trace_path, planned, random_plan, options);
  const TraceIndex trace = IndexTrace(trace_path, {options.cancel, {}});
  return EvaluateIndexed(trace, trace_path, planned, random_plan, options);
}

EvaluationResult EvaluateIndexed(const TraceIndex& trace, const std::string& trace_path,
                                 const profile::ProfileChunk& planned,
                                 const profile::ProfileChunk* random_plan,
                                 const EvaluateOptions& options) {
  EvaluationResult result;
  result.trace_path = trace_path;
  result.tiers = options.tiers;
  // In-sample when the plan's profile was learned from this very trace.
  std::error_code ec;
  const auto replayed = std::filesystem::weakly_canonical(trace_path, ec);
  for (const auto& run : planned.metadata().runs()) {
    std::error_code other;
    if (!run.trace_path().empty() &&
        std::filesystem::weakly_canonical(run.trace_path(), other) == replayed && !ec && !other) {
      result.held_out = false;
    }
  }
  if (options.tiers.empty()) {
    result.warnings.push_back("no tiers to evaluate");
    return result;
  }
  result.error = trace.error;
  if (trace.cancelled) {
    result.cancelled = true;
    return result;
  }
  if (trace.header.recorder().alloc_sample_bytes() > 0) {
    result.warnings.push_back(
        "the trace was recorded with --alloc-sample-bytes: the replay sees only the sampled "
        "allocations, so tier occupancy and shares are approximate");
  }
  for (const auto& s : trace.header.samplers()) {
    if (s.kind() == trace::SAMPLER_PEBS || s.kind() == trace::SAMPLER_IBS) {
      result.accesses_per_sample = double(std::max<uint64_t>(1, s.period()));
    }
  }
  result.peak_heap_bytes = options.peak_heap_bytes;
  // The footprint weighs interleave and is reported; a plan-only replay has neither.
  if (result.peak_heap_bytes == 0 && !options.plan_only) {
    result.peak_heap_bytes =
        MeasureFootprintIndexed(trace, trace_path, options.cancel).peak_heap_bytes;
  }
  if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
    result.cancelled = true;
    return result;
  }
  Replay replay(trace, trace_path, planned, random_plan, options, &result);
  replay.Run();
  if (result.heap_samples == 0) {
    result.warnings.push_back("no access sample hit a tracked allocation: every share is 0");
  }
  if (options.progress) options.progress(1.0);
  return result;
}

profile::ProfileChunk RandomPlan(const profile::ProfileChunk& learned, const PlanOptions& plan,
                                 uint64_t seed) {
  profile::ProfileChunk random = learned;
  PlanOptions options = plan;
  options.method = PlanOptions::Method::kRandom;
  options.random_seed = seed;
  MakePlan(options, &random);
  return random;
}

EvaluationResult PlanAndEvaluate(const profile::ProfileChunk& learned, const PlanOptions& plan,
                                 const std::string& trace_path, EvaluateOptions options) {
  std::string note;
  profile::ProfileChunk planned = SelectPlan(learned, plan, &note, options.cancel);
  const profile::ProfileChunk random = RandomPlan(learned, plan, options.random_seed);
  options.tiers = plan.tiers;
  options.size_threshold = plan.size_threshold;
  EvaluationResult r = Evaluate(trace_path, planned, &random, options);
  r.plan_note = note;
  return r;
}

}  // namespace tierscope::analyzer
