// The placer at run time: configuration read once at start, then the allocation path.
//
// Hot path (a routed allocation): collect `depth` return addresses (by the call frame rules,
// call_frame_walk.h; by frame pointers or unw_backtrace when asked), hash them, look the hash up in
// the lock-free SiteCache, allocate from the tier's arena through this thread's own tcache for that
// tier. No lock, no syscall, no allocation besides the user's. A cache miss translates the
// addresses to (module, offset) and consults the plan's KeyTable under a try-lock (a busy lock
// means "default tier, do not cache": never wait).
#pragma once

#include <jemalloc/jemalloc.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "learned_sites.h"
#include "mapped_ranges.h"
#include "module_table.h"
#include "nested_heap.h"
#include "placer_settings.h"
#include "site_cache.h"
#include "split_blocks.h"
#include "tier_arenas.h"
#include "tierscope/common/call_frame_walk.h"

#define TS_ALWAYS_INLINE inline __attribute__((always_inline))
// __thread, not thread_local: a plain per-thread block with no C++ TLS init wrapper, which
// every thread_local access would otherwise check through the GOT.
#define TS_TLS __attribute__((tls_model("initial-exec"))) __thread

namespace tierscope::placer {

// Site codes in the cache and key table: tier index + 1, kCodeQuota + quota id, or one of these.
constexpr uint8_t kCodeQuota = 0x40;    // .. + kMaxQuotas - 1: a site with a quota (State::quotas)
constexpr uint8_t kCodeDeeper = 0xFD;   // a prefix rule: the frames so far do not decide
constexpr uint8_t kCodeDefault = 0xFE;  // the plan puts the site on the default placement
constexpr uint8_t kCodeUnknown = 0xFF;  // not in the plan: goes to State::unknown_tier
constexpr int kDefaultTier = -1;        // jemalloc's normal arenas: what the kernel would do
// A placement (what TierForSite returns): kDefaultTier, a tier index, or kQuotaPlacement + quota
// id (the code - 1, as for a tier).
constexpr int kQuotaPlacement = kCodeQuota - 1;
// ReallocPlacement: the realloc's site is not in the plan, the block keeps its placement.
constexpr int kKeepPlacement = -2;

// Per-thread counters, aggregated lazily (at exit). Written only by their owning thread, so a
// relaxed load + store suffices (no locked instruction on the hot path).
struct ThreadCounters {
  std::atomic<uint64_t> allocs[kMaxTiers];
  std::atomic<uint64_t> bytes[kMaxTiers];
  std::atomic<uint64_t> fallbacks[kMaxTiers];  // allocations meant for tier i placed elsewhere
  std::atomic<uint64_t> splits[kMaxTiers];     // large blocks with their head on tier i only
  std::atomic<uint64_t> hints[kMaxTiers];
  std::atomic<uint64_t> plan_hits;
  std::atomic<uint64_t> unknown_sites;
  std::atomic<uint64_t> small_skipped;
  std::atomic<uint64_t> cache_misses;
  std::atomic<uint64_t> busy_misses;  // misses resolved as default because another thread resolved
  std::atomic<uint64_t> to_default;   // fell through every tier's budget
  std::atomic<uint64_t> libunwind_walks;  // kAuto: stacks the call frame rules left to libunwind
  std::atomic<uint64_t> walk_checks;      // kChecked: walks compared with libunwind's
  std::atomic<uint64_t> walk_mismatches;  // kChecked: ... that found other frames
  // Keys deeper than one frame: the frames the decisions read (per-prefix rules stop early).
  std::atomic<uint64_t> deep_lookups;
  std::atomic<uint64_t> frames_read;
  std::atomic<uint64_t> quota_allocs[kMaxQuotas];  // allocations counted against quota q
  std::atomic<uint64_t> quota_over[kMaxQuotas];    // sent to the next tier: quota q was full
  std::atomic<int> owner;
  // Stack walks with libunwind in flight on this block's thread(s): fork waits for them
  // (ForkPrepare).
  std::atomic<uint32_t> walking;
};

struct ThreadState {
  int tcache[kMaxTiers];  // jemalloc tcache id + 1; 0: not created yet; -1: none (use no tcache)
  // mallocx flags of this thread's arena and tcache on each tier, built once (SetUpTier) so the
  // hot path does not pick the arena (a division) or look at the tcache on every allocation.
  // 0: not built yet (MALLOCX_ARENA is never 0).
  int tier_flags[kMaxTiers];
  // The primary placement (Primary()) goes through jemalloc's automatic arena and tcache:
  // primary_flags is 0 once this thread's arena was switched to the primary tier's, or explicit
  // flags when that was not possible. default_flags: explicit flags (an automatic arena and this
  // thread's own tcache) for the default placement when it is not the primary one; 0: not built.
  bool primary_ready;
  int primary_flags;
  int default_flags;
  int default_tcache;  // jemalloc tcache id + 1 behind default_flags
  // Each quota arena's flags and this thread's tcache for it, as tier_flags and tcache.
  int quota_flags[kMaxQuotas];
  int quota_tcache[kMaxQuotas];
  ThreadCounters* counters;
  bool shared_counters;  // the overflow block: atomic adds
  bool dead;             // thread exit ran: tcaches destroyed
  uint8_t guard;         // inside the placer: nested allocations take the default path
  unsigned arena_pick;   // which of a tier's arenas this thread uses
  bool has_stack_bounds;
  uintptr_t stack_lo, stack_hi;
  bool fork_locked;  // between ForkPrepare and ForkParent/ForkChild: this thread holds the locks
  common::RecentStepRules recent_rules;  // kAuto: the front of g_state.rules (call_frame_walk.h)
};

extern TS_TLS ThreadState t_thread;

// Quotas (Assignment.quota_bytes): a quota site's blocks go to its own arena on its tier while the
// usable bytes of its live blocks there stay within `limit`, the others to `next`. `used` is the
// only shared word on the path (one CAS per allocation, one subtraction per free); a block's
// quota is found at free from its address (TierArenas::QuotaOf, the quota arena's page marks).
struct Quota {
  int tier = 0;
  int next = 0;  // the tier after `tier` (the last tier: itself)
  uint64_t limit = 0;
  uint64_t site_id = 0;
  unsigned arena = 0;
  std::atomic<uint64_t> used{0};
  std::atomic<uint64_t> peak{0};  // high-water mark of `used` (stats)

  // Takes `bytes` of the quota; false when they do not fit.
  bool Take(uint64_t bytes) {
    uint64_t cur = used.load(std::memory_order_relaxed);
    do {
      if (bytes > limit || cur > limit - bytes) return false;
    } while (!used.compare_exchange_weak(cur, cur + bytes, std::memory_order_relaxed));
    if (cur + bytes > peak.load(std::memory_order_relaxed)) {
      peak.store(cur + bytes, std::memory_order_relaxed);  // approximate under races: stats only
    }
    return true;
  }
  void Give(uint64_t bytes) { used.fetch_sub(bytes, std::memory_order_relaxed); }
};

struct State {
  std::atomic<bool> routing{false};  // a plan or learning is active: identify sites
  bool tiers_ready = false;          // tier arenas exist (hints work)
  int depth = 1;
  // The plan's per-prefix rules are in `keys` (PlacementIndex.prefix_keys): a stack's innermost
  // frames are looked up first, and it is walked further only where they do not decide.
  bool prefix_rules = false;
  uint64_t min_size = 0;
  Unwinder unwinder = Unwinder::kFramePointers;
  int unknown_tier = kDefaultTier;
  // The placement most allocations get (from the plan's allocation counts): a tier index, or
  // kDefaultTier. It is served by jemalloc's own malloc/free fast paths (its automatic tcache,
  // each thread's arena switched to one of the tier's arenas); every other placement names its
  // arena and an explicit tcache, so no block ever lands in another placement's cache.
  // Stored + 1 so that the all-zero State (allocations from other libraries' constructors, before
  // this one's are initialized) means the default placement. Read it through Primary().
  int primary_plus1 = 0;
  unsigned auto_arenas = 0;              // jemalloc's automatic arenas (0: unknown, use arena 0)
  void* (*je_malloc)(size_t) = nullptr;  // jemalloc's malloc and free: mallocx/dallocx with
  void (*je_free)(void*) = nullptr;      // flags 0 take its slower general path
  uintptr_t own_text_lo = 0, own_text_hi = 0;
  // Modules whose own mmap calls are never routed: jemalloc's (its default arenas' chunks) and
  // libunwind's (its caches). The placer's own are own_text_*.
  uintptr_t jemalloc_lo = 0, jemalloc_hi = 0, libunwind_lo = 0, libunwind_hi = 0;
  TierArenas arenas;
  SiteCache cache;
  common::StepRuleCache rules;  // kAuto, kChecked: the call frame rules met so far
  KeyTable keys;
  ModuleTable modules;
  LearnedSites learned;  // learning mode only
  MappedRanges maps;     // the program's mappings placed on a tier
  SplitBlocks splits;    // heap blocks with their first pages on a faster tier
  int quota_count = 0;   // quotas[0, quota_count) are in use; read-only once routing started
  Quota quotas[kMaxQuotas];
  NestedHeap nested;  // what nested calls allocate (nested_heap.h)
  // Nested allocations with the guard down: a signal handler's (the placer's own code allocates
  // nested too, with the guard raised). Lock-free, so a handler may count.
  std::atomic<uint64_t> handler_allocs{0};
  std::atomic<bool> miss_lock{false};
  // Threads inside fork() (between ForkPrepare and ForkParent): no new libunwind walk starts.
  std::atomic<int> forking{0};
};

extern State g_state;

TS_ALWAYS_INLINE int Primary() {
  return g_state.primary_plus1 - 1;
}

// --- slow paths (allocation_slow_path.cc) ---
// `prefix`: the frames are the start of a deeper stack (a per-prefix rule's lookup).
uint8_t ResolveMiss(const uint64_t* frames, int n, uint64_t hash, long* slot, bool prefix = false);
// kChecked: libunwind's frames replace the walk's `n` frames; a difference is counted (and said
// once). Returns libunwind's frame count.
int CheckWalk(void* ret, void* fp, uint64_t* frames, int n);
int CreateTcache(int tier);
ThreadCounters& AcquireCounters();
void FindStackBounds();
int CollectLibunwind(void* ret, void* fp, uint64_t* frames);
// pthread_atfork handlers (registered at start). Every lock of the placer (the miss lock, the
// placed-ranges lock) is taken before fork and released on both sides, and fork waits for the
// libunwind walks in flight (libunwind's caches have locks of their own): a lock can never be
// copied into the child held by a thread that does not exist there. The child's counters start
// from zero.
void ForkPrepare();
void ForkParent();
void ForkChild();

inline ThreadCounters& Counters() {
  ThreadCounters* c = t_thread.counters;
  return c ? *c : AcquireCounters();
}
TS_ALWAYS_INLINE void Bump(std::atomic<uint64_t>& counter, uint64_t n) {
  if (__builtin_expect(t_thread.shared_counters, 0)) {
    counter.fetch_add(n, std::memory_order_relaxed);
  } else {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
}

TS_ALWAYS_INLINE int TcacheFlags(int tier) {
  const int tc = t_thread.tcache[tier];
  if (__builtin_expect(tc > 0, 1)) return MALLOCX_TCACHE(tc - 1);
  if (tc < 0 || t_thread.dead) return MALLOCX_TCACHE_NONE;
  return CreateTcache(tier);
}

int SetUpPrimary();  // switches this thread's arena; returns t_thread.primary_flags
int SetUpDefault();  // builds t_thread.default_flags and returns them

// Flags for an allocation on the primary placement: 0 (automatic arena and tcache).
TS_ALWAYS_INLINE int PrimaryFlags() {
  return __builtin_expect(t_thread.primary_ready, 1) ? t_thread.primary_flags : SetUpPrimary();
}
// Flags for an allocation with the default placement (the kernel's, jemalloc's own arenas).
TS_ALWAYS_INLINE int DefaultFlags() {
  if (Primary() == kDefaultTier) return 0;
  const int f = t_thread.default_flags;
  return __builtin_expect(f != 0, 1) ? f : SetUpDefault();
}
TS_ALWAYS_INLINE void* AllocWithFlags(size_t size, int flags) {
  if (flags == 0 && g_state.je_malloc) return g_state.je_malloc(size);
  return mallocx(size, flags);
}

// jemalloc flags to release or resize a block of `tier` (TierOf) that is not a quota block: its
// placement's tcache. 0 for the primary placement (free's fast path); a block there always
// belongs in the automatic tcache.
TS_ALWAYS_INLINE int FlagsForTier(int tier) {
  if (tier == Primary()) return 0;
  return tier >= 0 ? TcacheFlags(tier) : DefaultFlags();
}

// The quota a block counted against (-1: none); `tier` is TierOf(p). One byte read, and only
// when the plan has quotas.
TS_ALWAYS_INLINE int QuotaOfBlock(const void* p, int tier) {
  if (__builtin_expect(g_state.quota_count == 0, 1) || tier < 0) return -1;
  return g_state.arenas.QuotaOf(p);
}

int SetUpQuota(int quota);  // builds t_thread.quota_flags[quota] and returns them
TS_ALWAYS_INLINE int QuotaFlags(int quota) {
  const int f = t_thread.quota_flags[quota];
  return __builtin_expect(f != 0, 1) ? f : SetUpQuota(quota);
}
// Frees a quota block (`size`: its size for sdallocx, 0 for dallocx) and gives its bytes back.
void ReleaseQuotaBlock(void* p, int quota, size_t size, int align_flags);

// A split block (split_blocks.h) is about to be freed or moved: its head pages are given back to
// the faster tier's budget and bound to the block's own tier again. Nothing for other blocks.
void ForgetSplit(void* p, int tier);
TS_ALWAYS_INLINE void ForgetIfSplit(void* p, int tier) {
  if (__builtin_expect(g_state.splits.any(), 0) && tier > 0) ForgetSplit(p, tier);
}

// A block a nested call allocated (nested_heap.h): not jemalloc's, wherever it is freed.
TS_ALWAYS_INLINE bool IsNestedBlock(const void* p) {
  return g_state.nested.Holds(p);
}

TS_ALWAYS_INLINE void ReleaseBlock(void* p) {
  const int tier = g_state.arenas.TierOf(p);
  if (tier < 0 && __builtin_expect(IsNestedBlock(p), 0)) return g_state.nested.Free(p);
  ForgetIfSplit(p, tier);
  if (const int quota = QuotaOfBlock(p, tier); __builtin_expect(quota >= 0, 0)) {
    return ReleaseQuotaBlock(p, quota, 0, 0);
  }
  const int flags = FlagsForTier(tier);
  if (flags == 0 && g_state.je_free) {
    g_state.je_free(p);
  } else {
    dallocx(p, flags);
  }
}

int SetUpTier(int tier);  // builds t_thread.tier_flags[tier] and returns it
// TierAlloc once `tier` refused: the slower tiers, then the default arenas (counted).
void* TierAllocFallback(int tier, size_t size, int flags);

TS_ALWAYS_INLINE int TierFlags(int tier) {
  const int f = t_thread.tier_flags[tier];
  return __builtin_expect(f != 0, 1) ? f : SetUpTier(tier);
}

// One attempt on `tier` (NULL when its budget refuses).
TS_ALWAYS_INLINE void* AllocOnTier(int tier, size_t size, int flags) {
  if (tier == Primary()) return AllocWithFlags(size, flags | PrimaryFlags());
  return mallocx(size, flags | TierFlags(tier));
}

// Allocates on `tier`, falling back through the slower tiers, then the default arenas.
TS_ALWAYS_INLINE void* TierAlloc(int tier, size_t size, int flags) {
  void* p = AllocOnTier(tier, size, flags);
  if (__builtin_expect(p == nullptr, 0)) return TierAllocFallback(tier, size, flags);
  ThreadCounters& c = Counters();
  Bump(c.allocs[tier], 1);
  Bump(c.bytes[tier], size);
  return p;
}

// This thread's stack [*lo, *hi), and whether the entry point's frame `fp` lies in it, where a
// walk can start: a frame is two words, the caller's frame pointer, then the return address.
TS_ALWAYS_INLINE bool FrameInStack(void* fp, uintptr_t* lo, uintptr_t* hi) {
  if (!t_thread.has_stack_bounds) FindStackBounds();
  *lo = t_thread.stack_lo;
  *hi = t_thread.stack_hi;
  const uintptr_t f = reinterpret_cast<uintptr_t>(fp);
  return f >= *lo && *hi >= 16 && f <= *hi - 16 && !(f & 7);
}

// The rule lookup of a walk by call frame rules (call_frame_walk.h): this thread's recent rules
// first, then the shared cache.
TS_ALWAYS_INLINE auto StepRules() {
  common::RecentStepRules& recent = t_thread.recent_rules;
  recent.Follow(g_state.rules.generation());
  return
      [&recent](uint64_t pc, int step) { return common::RuleFor(pc, step, recent, g_state.rules); };
}

// frames[0] = `ret` (the caller of the entry point); deeper frames by walking frame pointers
// from `fp` (the entry point's own frame). Every frame read lies within this thread's stack
// [stack_lo, stack_hi), and each one above the last: a frame outside it (a fiber's stack, a
// signal handler on sigaltstack, code without frame pointers) ends the walk, never a fault.
TS_ALWAYS_INLINE int CollectFramePointers(void* ret, void* fp, uint64_t* frames) {
  const int depth = g_state.depth;
  frames[0] = reinterpret_cast<uint64_t>(ret);
  if (depth == 1) return 1;
  uintptr_t lo, hi;
  if (!FrameInStack(fp, &lo, &hi)) return 1;
  uintptr_t f = reinterpret_cast<uintptr_t>(fp);
  int n = 1;
  while (n < depth) {
    const uintptr_t next = *reinterpret_cast<const uintptr_t*>(f);
    if (next <= f || next > hi - 16 || (next & 7)) break;
    f = next;
    frames[n++] = reinterpret_cast<const uint64_t*>(f)[1];
  }
  return n;
}

// kAuto: the walk by call frame rules (call_frame_walk.h), libunwind for the stacks it leaves.
TS_ALWAYS_INLINE int CollectByRules(void* ret, void* fp, uint64_t* frames) {
  uintptr_t lo, hi;
  int n = -1;
  if (FrameInStack(fp, &lo, &hi)) {
    n = common::WalkCallFrames(common::StartAtFrame(ret, fp), lo, hi, g_state.own_text_lo,
                               g_state.own_text_hi, g_state.depth, frames, StepRules());
  }
  if (__builtin_expect(n > 0, 1)) {
    if (__builtin_expect(g_state.unwinder == Unwinder::kChecked, 0)) {
      return CheckWalk(ret, fp, frames, n);
    }
    return n;
  }
  Bump(Counters().libunwind_walks, 1);
  return CollectLibunwind(ret, fp, frames);
}

TS_ALWAYS_INLINE int CollectFrames(void* ret, void* fp, uint64_t* frames) {
  if (g_state.depth == 1 || g_state.unwinder == Unwinder::kFramePointers) {
    return CollectFramePointers(ret, fp, frames);
  }
  if (g_state.unwinder == Unwinder::kLibunwind) return CollectLibunwind(ret, fp, frames);
  return CollectByRules(ret, fp, frames);
}

// The plan's code for the stack `frames`: a cache hit, or resolved at a miss.
TS_ALWAYS_INLINE uint8_t CodeOfFrames(size_t size, const uint64_t* frames, int n) {
  const uint64_t hash = HashFrames(frames, n);
  size_t slot = 0;
  uint8_t code = g_state.cache.Find(hash, &slot);
  long found = static_cast<long>(slot);
  if (__builtin_expect(code == kNoCode, 0)) code = ResolveMiss(frames, n, hash, &found);
  if (g_state.cache.learning() && found >= 0) g_state.cache.Count(found, size);
  return code;
}

// SiteCode for keys deeper than one frame (allocation_slow_path.cc). Out of line: inlined, the
// walk's frames array and registers made every entry point's prologue and epilogue pay for it,
// one-frame keys included.
uint8_t DeepSiteCode(size_t size, void* ret, void* fp);

// The plan's code for the call site `ret` (frame `fp`).
TS_ALWAYS_INLINE uint8_t SiteCode(size_t size, void* ret, void* fp) {
  if (g_state.depth != 1) return DeepSiteCode(size, ret, fp);
  const uint64_t frame = reinterpret_cast<uint64_t>(ret);
  return CodeOfFrames(size, &frame, 1);
}

// The placement of a site's code (kDefaultTier, a tier, or kQuotaPlacement + quota).
TS_ALWAYS_INLINE int PlacementOfCode(uint8_t code) {
  return code == kCodeDefault ? kDefaultTier : code - 1;
}

// The placement for an allocation of `size` made from the call site `ret` (frame `fp`).
TS_ALWAYS_INLINE int TierForSite(size_t size, void* ret, void* fp) {
  if (size < g_state.min_size) {
    Bump(Counters().small_skipped, 1);
    return kDefaultTier;
  }
  const uint8_t code = SiteCode(size, ret, fp);
  ThreadCounters& c = Counters();
  if (code == kCodeUnknown) {
    Bump(c.unknown_sites, 1);
    return g_state.unknown_tier;
  }
  Bump(c.plan_hits, 1);
  return PlacementOfCode(code);
}

// A quota site's allocation (allocation_slow_path.cc): on its tier within the quota, else on the
// next tier.
void* QuotaAlloc(int quota, size_t size, int flags);

// The realloc rule (allocation_slow_path.cc): a realloc of `old` (on `tier`, TierOf) to `size` from
// a site the plan names goes where the plan puts that site, moving the block when its placement is
// another; from any other site the block keeps its placement.
void* Reallocate(void* old, size_t size, int tier, void* ret, void* fp);

// The whole allocation decision for the C/C++ entry points. `align_flags`: MALLOCX_ALIGN/ZERO.
TS_ALWAYS_INLINE void* PlacedAlloc(size_t size, int align_flags, void* ret, void* fp) {
  if (size == 0) size = 1;  // mallocx(0) is undefined; malloc(0) must return a unique pointer
  if (__builtin_expect(g_state.routing.load(std::memory_order_relaxed), 1) && t_thread.guard == 0) {
    const int tier = TierForSite(size, ret, fp);
    if (tier >= 0) {
      if (__builtin_expect(tier < kQuotaPlacement, 1)) return TierAlloc(tier, size, align_flags);
      return QuotaAlloc(tier - kQuotaPlacement, size, align_flags);
    }
  }
  return AllocWithFlags(size, align_flags | DefaultFlags());
}

}  // namespace tierscope::placer
