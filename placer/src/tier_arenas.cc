#include "tier_arenas.h"

#include <numaif.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tierscope::placer {
namespace {

#ifndef MPOL_PREFERRED_MANY
#define MPOL_PREFERRED_MANY 5
#endif

TierSlice* SliceOf(extent_hooks_t* hooks) {
  return reinterpret_cast<TierSlice*>(hooks);
}

// Set while this thread runs arenas.create: the extents carved then are the new arena's first
// metadata block (jemalloc's base, 2 MiB aligned and sized). In a slice advised for huge pages its
// first touch would commit all 2 MiB of the fast tier for a few KiB of metadata: 2 x CPUs arenas
// per tier, 4 MiB here, 32 MiB on a large machine, in every placed process.
__attribute__((tls_model("initial-exec"))) __thread bool t_creating_arena = false;

// arenas.create with its first metadata block on small pages.
int CreateArena(unsigned* arena, extent_hooks_t* hooks) {
  size_t len = sizeof(*arena);
  t_creating_arena = true;
  const int rc = mallctl("arenas.create", arena, &len, &hooks, sizeof(hooks));
  t_creating_arena = false;
  return rc;
}

void* Carve(TierSlice* s, void* new_addr, size_t size, size_t alignment, bool* zero, bool* commit) {
  uintptr_t cur = s->next.load(std::memory_order_relaxed);
  uintptr_t start;
  do {
    start = new_addr ? reinterpret_cast<uintptr_t>(new_addr)
                     : (cur + alignment - 1) & ~(uintptr_t{alignment} - 1);
    if (new_addr && start != cur) return nullptr;  // only growth in place is possible
    // The tier's mappings share the budget (they never occupy the slice's address space).
    const uintptr_t mapped =
        s->budget.load(std::memory_order_relaxed) ? s->mapped.load(std::memory_order_relaxed) : 0;
    if (start + size + mapped > s->limit.load(std::memory_order_relaxed) || start + size < start) {
      s->refused.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
  } while (!s->next.compare_exchange_weak(cur, start + size, std::memory_order_relaxed));
  // Never handed out before: the pages are untouched anonymous memory, hence zero.
  *zero = true;
  *commit = true;
  if (t_creating_arena && s->huge_pages) {
    madvise(reinterpret_cast<void*>(start), size, MADV_NOHUGEPAGE);
  }
  return reinterpret_cast<void*>(start);
}

void* ExtentAlloc(extent_hooks_t* hooks, void* new_addr, size_t size, size_t alignment, bool* zero,
                  bool* commit, unsigned) {
  return Carve(SliceOf(hooks), new_addr, size, alignment, zero, commit);
}

// A quota arena's extent: carved from its tier's slice like any other, its pages marked with the
// quota before jemalloc hands out a block of it (so a free of such a block reads the mark).
void* QuotaExtentAlloc(extent_hooks_t* hooks, void* new_addr, size_t size, size_t alignment,
                       bool* zero, bool* commit, unsigned) {
  QuotaHooks* q = reinterpret_cast<QuotaHooks*>(hooks);
  void* p = Carve(q->slice, new_addr, size, alignment, zero, commit);
  if (p != nullptr) {
    const uintptr_t first = (reinterpret_cast<uintptr_t>(p) - q->base) >> kQuotaPageShift;
    const uintptr_t pages = (size + (uintptr_t{1} << kQuotaPageShift) - 1) >> kQuotaPageShift;
    std::memset(q->pages + first, q->mark, pages);
  }
  return p;
}

// Refuse to unmap: jemalloc retains the extent (its pages get purged), the slice stays one VMA.
bool ExtentDalloc(extent_hooks_t*, void*, size_t, bool, unsigned) {
  return true;
}
void ExtentDestroy(extent_hooks_t*, void*, size_t, bool, unsigned) {}
bool ExtentCommit(extent_hooks_t*, void*, size_t, size_t, size_t, unsigned) {
  return false;
}
bool ExtentDecommit(extent_hooks_t*, void*, size_t, size_t, size_t, unsigned) {
  return true;
}
bool ExtentPurgeLazy(extent_hooks_t*, void* addr, size_t, size_t offset, size_t length, unsigned) {
  return madvise(static_cast<char*>(addr) + offset, length, MADV_FREE) != 0;
}
bool ExtentPurgeForced(extent_hooks_t*, void* addr, size_t, size_t offset, size_t length,
                       unsigned) {
  // Keeps the VMA and its memory policy: refaulted pages land on the tier's nodes again.
  return madvise(static_cast<char*>(addr) + offset, length, MADV_DONTNEED) != 0;
}
bool ExtentSplit(extent_hooks_t*, void*, size_t, size_t, size_t, bool, unsigned) {
  return false;
}
bool ExtentMerge(extent_hooks_t*, void*, size_t, void*, size_t, bool, unsigned) {
  return false;
}

int Mode(Policy policy, size_t nodes) {
  switch (policy) {
    case Policy::kBind:
      return MPOL_BIND;
    case Policy::kInterleave:
      return MPOL_INTERLEAVE;
    case Policy::kPreferred:
      return nodes > 1 ? MPOL_PREFERRED_MANY : MPOL_PREFERRED;
  }
  return MPOL_BIND;
}

bool Bind(void* addr, size_t len, const TierSpec& tier, std::string* error) {
  unsigned long mask[16] = {};
  for (int n : tier.nodes) mask[n / 64] |= 1ul << (n % 64);
  const int mode = Mode(tier.policy, tier.nodes.size());
  if (mbind(addr, len, mode, mask, 1024, 0) == 0) return true;
  if (mode == MPOL_PREFERRED_MANY) {
    // Kernels before 5.15: prefer the first node of the tier.
    unsigned long first[16] = {};
    first[tier.nodes[0] / 64] = 1ul << (tier.nodes[0] % 64);
    if (mbind(addr, len, MPOL_PREFERRED, first, 1024, 0) == 0) return true;
  }
  *error = "tier '" + tier.name + "': mbind failed: " + std::strerror(errno);
  return false;
}

// A budgeted arena grows in small steps, so that the budget is not spent on one big extent. No
// allocation: also called from the allocation path.
void LimitGrowth(const TierSlice& s, unsigned arena) {
  if (s.budget.load(std::memory_order_relaxed) == 0) return;
  size_t grow = 2u << 20;
  char name[64];
  std::snprintf(name, sizeof name, "arena.%u.retain_grow_limit", arena);
  mallctl(name, nullptr, nullptr, &grow, sizeof(grow));
}

}  // namespace

void TierArenas::AllowMetadata(TierSlice& s) const {
  if (s.budget.load(std::memory_order_relaxed) == 0) return;
  const uintptr_t end = s.base + (uintptr_t{1} << shift_);
  uintptr_t limit = s.limit.load(std::memory_order_relaxed);
  do {
    if (limit + kMetadataAllowance > end) return;
  } while (
      !s.limit.compare_exchange_weak(limit, limit + kMetadataAllowance, std::memory_order_relaxed));
  s.budget.fetch_add(kMetadataAllowance, std::memory_order_relaxed);
}

unsigned TierArenas::MakeArena(int tier, int i) {
  TierSlice& s = slices_[tier];
  AllowMetadata(s);  // before: arenas.create carves the new arena's metadata from the slice
  unsigned made = 0;
  if (CreateArena(&made, &s.hooks) != 0) {
    // The first arena takes this slot for good: no thread tries (and budgets) again.
    made = s.arenas[0].load(std::memory_order_acquire);
  } else {
    LimitGrowth(s, made);
  }
  unsigned expected = 0;
  if (!s.arenas[i].compare_exchange_strong(expected, made, std::memory_order_acq_rel)) {
    return expected;
  }
  return made;
}

bool TierArenas::Create(const std::vector<TierSpec>& tiers, std::string* error, int per_tier) {
  if (tiers.empty() || tiers.size() > kMaxTiers) {
    *error = "between 1 and 8 tiers are needed";
    return false;
  }
  // 64 GiB of address space per tier, less if the kernel refuses (strict overcommit, ulimit -v).
  void* region = MAP_FAILED;
  for (shift_ = 36; shift_ >= 28; --shift_) {
    region = mmap(nullptr, tiers.size() << shift_, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region != MAP_FAILED) break;
  }
  if (region == MAP_FAILED) {
    *error = std::string("cannot reserve address space for the tiers: ") + std::strerror(errno);
    return false;
  }
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const int count = static_cast<int>(
      std::clamp(per_tier > 0 ? long{per_tier} : 2 * cpus, 1l, long{kMaxArenasPerTier}));
  base_ = reinterpret_cast<uintptr_t>(region);
  total_ = tiers.size() << shift_;
  for (size_t i = 0; i < tiers.size(); ++i) {
    TierSlice& s = slices_[i];
    const TierSpec& tier = tiers[i];
    s.base = base_ + (i << shift_);
    s.next.store(s.base);
    const uint64_t slice = uint64_t{1} << shift_;
    // Room for the first arena's metadata; each arena made later adds its own (AllowMetadata).
    const uintptr_t limit =
        s.base + (tier.capacity_bytes && tier.capacity_bytes + kMetadataAllowance < slice
                      ? tier.capacity_bytes + kMetadataAllowance
                      : slice);
    s.limit.store(limit);
    if (tier.capacity_bytes) s.budget.store(limit - s.base);
    void* addr = reinterpret_cast<void*>(s.base);
    if (!Bind(addr, slice, tier, error)) return false;
    s.mode = Mode(tier.policy, tier.nodes.size());
    for (int n : tier.nodes) s.nodemask[n / 64] |= 1ul << (n % 64);
    s.huge_pages = WantsHugePages(tier, i);
    madvise(addr, slice, s.huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    s.hooks = extent_hooks_t{ExtentAlloc,       ExtentDalloc,   ExtentDestroy,
                             ExtentCommit,      ExtentDecommit, ExtentPurgeLazy,
                             ExtentPurgeForced, ExtentSplit,    ExtentMerge};
    extent_hooks_t* hooks = &s.hooks;
    // Every arena of the tier carves from the same slice through the same hooks. The first is
    // made now (a refusal is said at start); the others when a thread first needs them.
    unsigned first = 0;
    if (int rc = CreateArena(&first, hooks); rc != 0) {
      *error = "tier '" + tier.name + "': jemalloc arenas.create failed: " + std::strerror(rc);
      return false;
    }
    LimitGrowth(s, first);
    s.arenas[0].store(first, std::memory_order_release);
    s.arena_count = count;
    count_ = static_cast<int>(i + 1);
  }
  return true;
}

bool TierArenas::CreateQuotaArena(int tier, int quota, unsigned* arena) {
  if (tier < 0 || tier >= count_ || quota < 0 || quota >= kMaxQuotas) return false;
  if (quota_pages_ == nullptr) {
    void* map = mmap(nullptr, total_ >> kQuotaPageShift, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) return false;
    quota_pages_ = static_cast<uint8_t*>(map);
  }
  TierSlice& s = slices_[tier];
  QuotaHooks& h = quota_hooks_[quota];
  h.hooks = extent_hooks_t{QuotaExtentAlloc,  ExtentDalloc,   ExtentDestroy,
                           ExtentCommit,      ExtentDecommit, ExtentPurgeLazy,
                           ExtentPurgeForced, ExtentSplit,    ExtentMerge};
  h.slice = &s;
  h.pages = quota_pages_;
  h.base = base_;
  h.mark = static_cast<uint8_t>(quota + 1);
  AllowMetadata(s);  // its own metadata, as for the tier's arenas
  if (CreateArena(arena, &h.hooks) != 0) return false;
  LimitGrowth(s, *arena);
  return true;
}

bool TierArenas::Charge(int tier, uint64_t len) {
  TierSlice& s = slices_[tier];
  const uint64_t budget = s.budget.load(std::memory_order_relaxed);
  if (budget == 0) {
    s.mapped.fetch_add(len, std::memory_order_relaxed);
    return true;
  }
  // Extents and mappings are checked against each other without one common lock: two racing
  // requests may overshoot the budget by at most one of them.
  uint64_t cur = s.mapped.load(std::memory_order_relaxed);
  do {
    if (used_bytes(tier) + cur + len > budget) {
      s.refused.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (!s.mapped.compare_exchange_weak(cur, cur + len, std::memory_order_relaxed));
  return true;
}

bool TierArenas::BindRange(int tier, void* addr, size_t len, bool move) const {
  const TierSlice& s = slices_[tier];
  const unsigned flags = move ? MPOL_MF_MOVE : 0;
  bool ok = mbind(addr, len, s.mode, s.nodemask, 1024, flags) == 0;
  if (!ok && s.mode == MPOL_PREFERRED_MANY) {  // kernels before 5.15, as in Create()
    unsigned long first[16] = {};
    for (int w = 0; w < 16; ++w) {
      if (s.nodemask[w]) {
        first[w] = s.nodemask[w] & -s.nodemask[w];  // the tier's first node
        break;
      }
    }
    ok = mbind(addr, len, MPOL_PREFERRED, first, 1024, flags) == 0;
  }
  if (ok) madvise(addr, len, s.huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return ok;
}

}  // namespace tierscope::placer
