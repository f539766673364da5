// Slow paths of the run-time placer: cache misses, tcache creation, per-thread state.
#define UNW_LOCAL_ONLY
#include "allocation_path.h"

#include <libunwind.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tierscope/common/split_blocks.h"

namespace tierscope::placer {

TS_TLS ThreadState t_thread;
State g_state;

namespace {

constexpr size_t kCounterBlocks = 4096;
ThreadCounters* g_counter_blocks = nullptr;  // mapped at start (Configure)
ThreadCounters g_shared_counters;            // for threads beyond kCounterBlocks
std::atomic<size_t> g_blocks_used{0};        // blocks [0, g_blocks_used) were handed out once

pthread_key_t g_thread_exit_key;
bool g_thread_exit_key_ok = false;

// One of this thread's tcaches (id + 1 in *tcache, as NewThreadTcache made it) back to jemalloc;
// the slot and its flags say "none" from now on.
void DropThreadTcache(int* tcache, int* flags) {
  if (*tcache > 0) {
    unsigned id = static_cast<unsigned>(*tcache - 1);
    mallctl("tcache.destroy", nullptr, nullptr, &id, sizeof(id));
  }
  *tcache = -1;
  *flags = 0;
}

// Thread exit: give the tier tcaches back to jemalloc (ids are limited) and the counter block to
// the next thread (counts are cumulative, so a reused block stays correct).
void OnThreadExit(void*) {
  t_thread.guard++;
  for (int i = 0; i < kMaxTiers; ++i)
    DropThreadTcache(&t_thread.tcache[i], &t_thread.tier_flags[i]);
  DropThreadTcache(&t_thread.default_tcache, &t_thread.default_flags);
  for (int q = 0; q < kMaxQuotas; ++q) {
    DropThreadTcache(&t_thread.quota_tcache[q], &t_thread.quota_flags[q]);
  }
  t_thread.dead = true;
  if (t_thread.counters && !t_thread.shared_counters) {
    t_thread.counters->owner.store(0, std::memory_order_release);
  }
  t_thread.counters = &g_shared_counters;
  t_thread.shared_counters = true;
  t_thread.guard--;
}

void RegisterThreadExit() {
  if (g_thread_exit_key_ok && !t_thread.dead) {
    pthread_setspecific(g_thread_exit_key, reinterpret_cast<void*>(1));
  }
}

}  // namespace

void InitThreadMachinery(ThreadCounters* blocks) {
  g_counter_blocks = blocks;
  g_thread_exit_key_ok = pthread_key_create(&g_thread_exit_key, OnThreadExit) == 0;
}

// Only the blocks handed out: the others were never touched, and reading all 4096 (2.7 MB) faulted
// in the zero page for each and cost every placed process 15 ms at exit.
ThreadCounters* CounterBlocks(size_t* count) {
  *count = g_counter_blocks ? g_blocks_used.load(std::memory_order_acquire) : 0;
  return g_counter_blocks;
}
ThreadCounters& SharedCounters() {
  return g_shared_counters;
}

ThreadCounters& AcquireCounters() {
  t_thread.guard++;
  ThreadCounters* mine = nullptr;
  if (g_counter_blocks && !t_thread.dead) {
    for (size_t i = 0; i < kCounterBlocks && !mine; ++i) {
      int expected = 0;
      if (g_counter_blocks[i].owner.load(std::memory_order_relaxed) == 0 &&
          g_counter_blocks[i].owner.compare_exchange_strong(expected, 1)) {
        mine = &g_counter_blocks[i];
        size_t used = g_blocks_used.load(std::memory_order_relaxed);
        while (used < i + 1 && !g_blocks_used.compare_exchange_weak(used, i + 1)) {
        }
      }
    }
  }
  static std::atomic<unsigned> next_pick{0};
  t_thread.arena_pick = next_pick.fetch_add(1, std::memory_order_relaxed);
  t_thread.shared_counters = mine == nullptr;
  t_thread.counters = mine ? mine : &g_shared_counters;
  RegisterThreadExit();
  t_thread.guard--;
  return *t_thread.counters;
}

namespace {

void ZeroCounters(ThreadCounters& c) {
  for (int i = 0; i < kMaxTiers; ++i) {
    c.allocs[i].store(0, std::memory_order_relaxed);
    c.bytes[i].store(0, std::memory_order_relaxed);
    c.fallbacks[i].store(0, std::memory_order_relaxed);
    c.splits[i].store(0, std::memory_order_relaxed);
    c.hints[i].store(0, std::memory_order_relaxed);
  }
  for (int q = 0; q < kMaxQuotas; ++q) {
    c.quota_allocs[q].store(0, std::memory_order_relaxed);
    c.quota_over[q].store(0, std::memory_order_relaxed);
  }
  for (auto* counter : {&c.plan_hits, &c.unknown_sites, &c.small_skipped, &c.cache_misses,
                        &c.busy_misses, &c.to_default, &c.libunwind_walks, &c.walk_checks,
                        &c.walk_mismatches, &c.deep_lookups, &c.frames_read}) {
    counter->store(0, std::memory_order_relaxed);
  }
}

}  // namespace

void ForkPrepare() {
  // fork() from a signal handler that interrupted this very thread inside the placer: it may hold
  // a lock itself. Take none (the child resets them: the best there is).
  if (t_thread.guard != 0) return;
  t_thread.guard++;  // until ForkParent/ForkChild: nothing this thread allocates is routed
  t_thread.fork_locked = true;
  // 1. No new libunwind walk, and the ones in flight finish (they may take the ranges lock).
  g_state.forking.fetch_add(1);
  const size_t used = g_counter_blocks ? g_blocks_used.load() : 0;
  for (size_t i = 0; i < used; ++i) {
    while (g_counter_blocks[i].walking.load(std::memory_order_acquire) != 0) sched_yield();
  }
  while (g_shared_counters.walking.load(std::memory_order_acquire) != 0) sched_yield();
  // 2. The miss lock: its holder may be reading the loader's list or writing the module table.
  while (g_state.miss_lock.exchange(true, std::memory_order_acquire)) sched_yield();
  // 3. The placed-ranges lock (its holders take nothing else).
  g_state.maps.Lock();
  // 4. The nested calls' heap (its holders take nothing else; signals stay blocked until the
  // fork returns).
  g_state.nested.LockForFork();
}

void ForkParent() {
  if (!t_thread.fork_locked) return;
  t_thread.fork_locked = false;
  g_state.nested.UnlockAfterFork();
  g_state.maps.Unlock();
  g_state.miss_lock.store(false, std::memory_order_release);
  g_state.forking.fetch_sub(1);
  t_thread.guard--;
}

// In the child only the forking thread is left: every lock is free (whoever held it is gone or
// is this thread, between ForkPrepare and here), no walk is in flight, and its counts start from
// zero, so that the stats of a process tree add up (the parent reports what happened before the
// fork); the counter blocks of the threads that did not come along are free again.
void ForkChild() {
  if (t_thread.fork_locked) {
    g_state.nested.UnlockAfterFork();
  } else {
    g_state.nested.ForgetLock();
  }
  g_state.maps.Unlock();
  g_state.miss_lock.store(false, std::memory_order_release);
  g_state.forking.store(0);
  const size_t used = g_counter_blocks ? g_blocks_used.load(std::memory_order_relaxed) : 0;
  for (size_t i = 0; i < used; ++i) {
    ThreadCounters& c = g_counter_blocks[i];
    ZeroCounters(c);
    c.walking.store(0, std::memory_order_relaxed);
    if (&c != t_thread.counters) c.owner.store(0, std::memory_order_relaxed);
  }
  ZeroCounters(g_shared_counters);
  g_shared_counters.walking.store(0, std::memory_order_relaxed);
  for (int t = 0; t < g_state.arenas.count(); ++t) g_state.arenas.ResetRefusals(t);
  if (t_thread.fork_locked) {
    t_thread.fork_locked = false;
    t_thread.guard--;
  }
}

namespace {

// A new jemalloc tcache for this thread (destroyed at its exit): its id + 1, or -1 when jemalloc
// has no id left (the thread then goes without).
int NewThreadTcache() {
  t_thread.guard++;
  unsigned id = 0;
  size_t len = sizeof(id);
  int made = -1;
  if (mallctl("tcache.create", &id, &len, nullptr, 0) == 0) {
    made = static_cast<int>(id) + 1;
    RegisterThreadExit();
  }
  t_thread.guard--;
  return made;
}

}  // namespace

int CreateTcache(int tier) {
  t_thread.tcache[tier] = NewThreadTcache();
  return t_thread.tcache[tier] > 0 ? MALLOCX_TCACHE(t_thread.tcache[tier] - 1)
                                   : MALLOCX_TCACHE_NONE;
}

void FindStackBounds() {
  t_thread.guard++;
  pthread_attr_t attr;
  void* addr = nullptr;
  size_t size = 0;
  t_thread.stack_lo = 0;
  t_thread.stack_hi = 16;  // unknown bounds: the walk stops at the first frame
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      t_thread.stack_lo = reinterpret_cast<uintptr_t>(addr);
      t_thread.stack_hi = t_thread.stack_lo + size;
    }
    pthread_attr_destroy(&attr);
  }
  t_thread.has_stack_bounds = true;
  t_thread.guard--;
}

int CollectLibunwind(void* ret, void* fp, uint64_t* frames) {
  ThreadCounters& c = Counters();
  // Announce the walk, then look for a fork in progress (both sequentially consistent, against
  // ForkPrepare's increment then scan): either fork waits for this walk or this walk does not
  // start. While a thread forks, frame pointers stand in.
  if (t_thread.shared_counters) {
    c.walking.fetch_add(1);
  } else {
    c.walking.store(1);
  }
  if (__builtin_expect(g_state.forking.load() != 0, 0)) {
    if (t_thread.shared_counters) {
      c.walking.fetch_sub(1);
    } else {
      c.walking.store(0, std::memory_order_release);
    }
    return CollectFramePointers(ret, fp, frames);
  }
  void* raw[kMaxDepth + 8];
  t_thread.guard++;  // whatever libunwind allocates or maps is not the program's
  const int n = unw_backtrace(raw, g_state.depth + 8);
  t_thread.guard--;
  if (t_thread.shared_counters) {
    c.walking.fetch_sub(1, std::memory_order_release);
  } else {
    c.walking.store(0, std::memory_order_release);
  }
  int skip = 0;
  while (skip < n && reinterpret_cast<uintptr_t>(raw[skip]) >= g_state.own_text_lo &&
         reinterpret_cast<uintptr_t>(raw[skip]) < g_state.own_text_hi) {
    ++skip;
  }
  int kept = 0;
  for (int i = skip; i < n && kept < g_state.depth; ++i) {
    frames[kept++] = reinterpret_cast<uint64_t>(raw[i]);
  }
  if (kept == 0) frames[kept++] = 0;
  return kept;
}

namespace {

// The miss lock, tried (never waited for: its holder may be waiting for the loader lock this
// thread holds). Taken: the guard is up and the module table is current.
bool TryMissLock() {
  bool expected = false;
  if (t_thread.guard ||
      !g_state.miss_lock.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
    return false;
  }
  t_thread.guard++;
  // dlclose since the last miss: a raw address may now belong to another module. Learned counts
  // are folded in with the old module table first, so unloaded libraries keep their names.
  if (g_state.modules.UnloadedSinceRefresh()) {
    if (g_state.cache.learning()) g_state.learned.Fold(g_state.cache, g_state.modules);
    g_state.cache.Clear();
    if (g_state.rules.ready()) g_state.rules.Clear();
  }
  g_state.modules.RefreshIfChanged();
  return true;
}

void MissUnlock() {
  g_state.miss_lock.store(false, std::memory_order_release);
  t_thread.guard--;
}

// Under the miss lock: the plan's code for these frames, cached under `hash`. A prefix without
// a rule starts no stack the plan names: unknown, as a full key without one.
uint8_t LookUpAndCache(const uint64_t* frames, int n, uint64_t hash, long* slot, bool prefix) {
  uint8_t code = g_state.cache.Find(hash, reinterpret_cast<size_t*>(slot));
  if (code != kNoCode) return code;
  ModuleOffset key[kMaxDepth];
  for (int i = 0; i < n; ++i) key[i] = g_state.modules.Translate(frames[i]);
  const uint64_t k = HashKey(key, n);
  code = g_state.keys.Find(prefix ? common::PrefixKey(k) : k);
  if (code == kNoCode) code = kCodeUnknown;
  *slot = g_state.cache.Insert(hash, code, frames, n);
  return code;
}

// The per-prefix rule for the innermost `d` frames: a code, or kCodeDeeper.
inline uint8_t PrefixCode(const uint64_t* frames, int d) {
  const uint64_t hash = common::PrefixFrames(HashFrames(frames, d));
  size_t slot = 0;
  const uint8_t code = g_state.cache.Find(hash, &slot);
  if (__builtin_expect(code != kNoCode, 1)) return code;
  long found = -1;
  return ResolveMiss(frames, d, hash, &found, /*prefix=*/true);
}

inline uint8_t Decided(uint8_t code, int frames) {
  ThreadCounters& c = Counters();
  Bump(c.deep_lookups, 1);
  Bump(c.frames_read, static_cast<uint64_t>(frames));
  return code;
}

// Frames already collected (`n`, at most the key depth): the prefix rules innermost first, then
// the full key. The replay decides recorded stacks the same way (PlanDecisions::DecideStack).
uint8_t CodeByPrefixes(size_t size, const uint64_t* frames, int n) {
  for (int d = 1; g_state.prefix_rules && d <= n && d < g_state.depth; ++d) {
    const uint8_t code = PrefixCode(frames, d);
    if (code != kCodeDeeper) return Decided(code, d);
  }
  return Decided(CodeOfFrames(size, frames, n), n);
}

// The walk by call frame rules one frame at a time, each new frame looked up in the prefix rules
// before the next is read: a site decided by its innermost frames is not walked further. -1:
// the rules could not walk this stack (libunwind must).
int WalkByPrefixes(size_t size, void* ret, void* fp, uint64_t* frames) {
  uintptr_t lo, hi;
  if (!FrameInStack(fp, &lo, &hi)) return -1;
  auto rule_of = StepRules();
  common::CallFrameCursor c;
  if (!common::StartCallFrames(common::StartAtFrame(ret, fp), lo, hi, g_state.own_text_lo,
                               g_state.own_text_hi, &c, rule_of)) {
    return -1;
  }
  const int depth = g_state.depth;
  frames[0] = c.pc;
  int n = 1;
  while (n < depth) {
    const uint8_t code = PrefixCode(frames, n);
    if (code != kCodeDeeper) return Decided(code, n);
    const common::FrameStep step = common::StepCallFrame(c, hi, rule_of);
    if (step == common::FrameStep::kLost) return -1;
    if (step == common::FrameStep::kEnd) break;
    frames[n++] = c.pc;
  }
  return Decided(CodeOfFrames(size, frames, n), n);
}

}  // namespace

uint8_t DeepSiteCode(size_t size, void* ret, void* fp) {
  uint64_t frames[kMaxDepth];
  if (g_state.prefix_rules && g_state.unwinder == Unwinder::kAuto) {
    const int code = WalkByPrefixes(size, ret, fp, frames);
    if (__builtin_expect(code >= 0, 1)) return static_cast<uint8_t>(code);
    Bump(Counters().libunwind_walks, 1);
    return CodeByPrefixes(size, frames, CollectLibunwind(ret, fp, frames));
  }
  return CodeByPrefixes(size, frames, CollectFrames(ret, fp, frames));
}

uint8_t ResolveMiss(const uint64_t* frames, int n, uint64_t hash, long* slot, bool prefix) {
  *slot = -1;
  if (!TryMissLock()) {
    Bump(Counters().busy_misses, 1);
    return kCodeUnknown;
  }
  Bump(Counters().cache_misses, 1);
  const uint8_t code = LookUpAndCache(frames, n, hash, slot, prefix);
  MissUnlock();
  return code;
}

int CheckWalk(void* ret, void* fp, uint64_t* frames, int n) {
  uint64_t walked[kMaxDepth];
  std::copy(frames, frames + n, walked);
  const int m = CollectLibunwind(ret, fp, frames);
  ThreadCounters& c = Counters();
  Bump(c.walk_checks, 1);
  if (m == n && std::equal(frames, frames + m, walked)) return m;
  Bump(c.walk_mismatches, 1);
  static std::atomic<bool> said{false};
  if (!said.exchange(true)) {
    int at = 0;
    while (at < std::min(m, n) && frames[at] == walked[at]) ++at;
    char line[256];
    const int len = snprintf(line, sizeof(line),
                             "tierscope placer: walk check: the call frame walk found %d frames, "
                             "libunwind %d; they differ from frame %d (%#lx against %#lx)\n",
                             n, m, at, at < n ? static_cast<unsigned long>(walked[at]) : 0ul,
                             at < m ? static_cast<unsigned long>(frames[at]) : 0ul);
    if (len > 0) (void)!write(2, line, std::min<size_t>(len, sizeof(line) - 1));
  }
  return m;
}

int SetUpTier(int tier) {
  Counters();  // picks this thread's arena index (arena_pick)
  const int flags = MALLOCX_ARENA(g_state.arenas.arena(tier, t_thread.arena_pick));
  const int tcache = TcacheFlags(tier);
  // After thread exit the tcaches are gone: build the flags each time, never keep them.
  if (t_thread.dead) return flags | MALLOCX_TCACHE_NONE;
  t_thread.tier_flags[tier] = flags | tcache;
  return flags | tcache;
}

int SetUpPrimary() {
  Counters();  // picks this thread's arena index (arena_pick)
  const unsigned arena = g_state.arenas.arena(Primary(), t_thread.arena_pick);
  const int explicit_flags = MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE;
  if (t_thread.dead) return explicit_flags;  // jemalloc's thread state may be gone: no switch
  t_thread.guard++;
  // Whatever the automatic tcache holds from before (default-placement blocks freed before the
  // placer started) goes back to its arena first: from now on it only caches primary blocks.
  mallctl("thread.tcache.flush", nullptr, nullptr, nullptr, 0);
  unsigned a = arena;
  const bool switched = mallctl("thread.arena", nullptr, nullptr, &a, sizeof(a)) == 0;
  t_thread.primary_flags = switched ? 0 : explicit_flags;
  t_thread.primary_ready = true;
  t_thread.guard--;
  return t_thread.primary_flags;
}

int SetUpDefault() {
  Counters();
  const int arena =
      MALLOCX_ARENA(g_state.auto_arenas ? t_thread.arena_pick % g_state.auto_arenas : 0);
  if (t_thread.dead || t_thread.default_tcache < 0) return arena | MALLOCX_TCACHE_NONE;
  t_thread.default_tcache = NewThreadTcache();
  if (t_thread.default_tcache > 0) {
    t_thread.default_flags = arena | MALLOCX_TCACHE(t_thread.default_tcache - 1);
  }
  return t_thread.default_tcache > 0 ? t_thread.default_flags : arena | MALLOCX_TCACHE_NONE;
}

namespace {

// A large block `tier` has room for part of: on the next tier that takes it, its first whole
// pages bound to `tier` (split_blocks.h). Counted as an allocation of `tier`, where its first byte
// is (as the replay counts it). NULL when no slower tier takes it; the block whole on the slower
// tier when it cannot be split (a spill, counted as such).
void* SplitAlloc(int tier, size_t size, int flags) {
  TierArenas& arenas = g_state.arenas;
  constexpr uint64_t kPage = common::kSplitPageBytes;
  const uint64_t room = arenas.Room(tier) / kPage * kPage;
  if (room < common::kMinSplitHeadBytes || room >= size) return nullptr;
  ThreadCounters& c = Counters();
  for (int t = tier + 1; t < arenas.count(); ++t) {
    void* p = AllocOnTier(t, size, flags);
    if (p == nullptr) continue;
    const uintptr_t at = reinterpret_cast<uintptr_t>(p);
    SplitBlocks::Head head;
    head.lo = (at + kPage - 1) & ~(kPage - 1);
    head.hi = (at + room) & ~(kPage - 1);
    head.tier = tier;
    const uint64_t len = head.hi > head.lo ? head.hi - head.lo : 0;
    if (len >= common::kMinSplitHeadBytes && arenas.Charge(tier, len)) {
      if (g_state.splits.Add(at, head)) {
        t_thread.guard++;
        const bool bound = arenas.BindRange(tier, reinterpret_cast<void*>(head.lo), len, true);
        t_thread.guard--;
        if (bound) {
          Bump(c.splits[tier], 1);
          Bump(c.allocs[tier], 1);
          Bump(c.bytes[tier], len);
          Bump(c.bytes[t], size - len);
          return p;
        }
        g_state.splits.Take(at, &head);
      }
      arenas.Release(tier, len);
    }
    Bump(c.fallbacks[tier], 1);
    Bump(c.allocs[t], 1);
    Bump(c.bytes[t], size);
    return p;
  }
  return nullptr;
}

}  // namespace

void ForgetSplit(void* p, int tier) {
  SplitBlocks::Head head;
  if (!g_state.splits.Take(reinterpret_cast<uintptr_t>(p), &head)) return;
  void* lo = reinterpret_cast<void*>(head.lo);
  const size_t len = head.hi - head.lo;
  // The block is being freed (or moved away): its head's contents are dead, so its pages are
  // dropped rather than migrated, and refault on the block's own tier.
  madvise(lo, len, MADV_DONTNEED);
  g_state.arenas.BindRange(tier, lo, len, false);
  g_state.arenas.Release(head.tier, len);
}

void* TierAllocFallback(int tier, size_t size, int flags) {
  TierArenas& arenas = g_state.arenas;
  if (size >= common::kSplitFromBytes && tier + 1 < arenas.count()) {
    if (void* p = SplitAlloc(tier, size, flags)) return p;
  }
  ThreadCounters& c = Counters();
  for (int t = tier + 1; t < arenas.count(); ++t) {
    void* p = AllocOnTier(t, size, flags);
    if (__builtin_expect(p != nullptr, 1)) {
      Bump(c.fallbacks[tier], 1);
      Bump(c.allocs[t], 1);
      Bump(c.bytes[t], size);
      return p;
    }
  }
  // Every tier from `tier` on is full: the default placement still serves the program.
  Bump(c.fallbacks[tier], 1);
  Bump(c.to_default, 1);
  return AllocWithFlags(size, flags | DefaultFlags());
}

// --- quotas ---

int SetUpQuota(int quota) {
  Counters();
  const int arena = MALLOCX_ARENA(g_state.quotas[quota].arena);
  if (t_thread.dead) return arena | MALLOCX_TCACHE_NONE;  // its tcaches are gone: never keep
  if (t_thread.quota_tcache[quota] == 0) t_thread.quota_tcache[quota] = NewThreadTcache();
  const int tc = t_thread.quota_tcache[quota];
  t_thread.quota_flags[quota] = arena | (tc > 0 ? MALLOCX_TCACHE(tc - 1) : MALLOCX_TCACHE_NONE);
  return t_thread.quota_flags[quota];
}

void* QuotaAlloc(int quota, size_t size, int flags) {
  Quota& q = g_state.quotas[quota];
  ThreadCounters& c = Counters();
  // Counted by usable size: what free can read back (sallocx) without a header.
  const size_t usable = nallocx(size, flags);
  if (usable != 0 && q.Take(usable)) {
    if (void* p = mallocx(size, flags | QuotaFlags(quota))) {
      Bump(c.allocs[q.tier], 1);
      Bump(c.bytes[q.tier], size);
      Bump(c.quota_allocs[quota], 1);
      return p;
    }
    q.Give(usable);  // the tier's budget refused: down the tiers, as any allocation of the tier
    return TierAllocFallback(q.tier, size, flags);
  }
  Bump(c.quota_over[quota], 1);
  return TierAlloc(q.next, size, flags);
}

void ReleaseQuotaBlock(void* p, int quota, size_t size, int align_flags) {
  g_state.quotas[quota].Give(sallocx(p, 0));
  const int flags = align_flags | QuotaFlags(quota);
  if (size != 0) {
    sdallocx(p, size, flags);
  } else {
    dallocx(p, flags);
  }
}

// --- realloc ---

namespace {

// The placement of a realloc made from `ret`: kKeepPlacement when the plan does not name its
// site. Counted like an allocation's look-up (plan hits, unknown sites, learned sites).
int ReallocPlacement(size_t size, void* ret, void* fp) {
  const uint8_t code = SiteCode(size, ret, fp);
  ThreadCounters& c = Counters();
  if (code == kCodeUnknown) {
    Bump(c.unknown_sites, 1);
    return kKeepPlacement;
  }
  Bump(c.plan_hits, 1);
  if (size < g_state.min_size) {
    Bump(c.small_skipped, 1);
    return kDefaultTier;
  }
  return PlacementOfCode(code);
}

void CountPlaced(int tier, size_t size) {
  ThreadCounters& c = Counters();
  Bump(c.allocs[tier], 1);
  Bump(c.bytes[tier], size);
}

// The block moved to `p` (NULL: no memory, `old` stays as it is).
void* MoveTo(void* p, void* old, size_t size) {
  if (p == nullptr) return nullptr;
  std::memcpy(p, old, std::min(sallocx(old, 0), size));
  ReleaseBlock(old);
  return p;
}

TS_ALWAYS_INLINE int ResizeFlags(int tier) {
  return tier == Primary() ? PrimaryFlags() : TierFlags(tier);
}

// A block that keeps its placement: resized in place or within its arena's tier (then down the
// tiers when the tier is full). A quota block stays counted against its quota by its new size.
void* ResizeKept(void* old, size_t size, int tier, int quota, bool count) {
  if (tier < 0) return rallocx(old, size, DefaultFlags());
  if (quota >= 0) {
    const size_t old_usable = sallocx(old, 0);
    if (void* p = rallocx(old, size, QuotaFlags(quota))) {
      g_state.quotas[quota].used.fetch_add(sallocx(p, 0) - old_usable, std::memory_order_relaxed);
      if (count) CountPlaced(tier, size);
      return p;
    }
    return MoveTo(TierAllocFallback(tier, size, 0), old, size);
  }
  if (void* p = rallocx(old, size, ResizeFlags(tier))) {
    if (count) CountPlaced(tier, size);
    return p;
  }
  return MoveTo(TierAlloc(tier, size, 0), old, size);
}

// A split block is never resized by jemalloc (it could move it without us): a new block where the
// plan (or, from a site it does not name, the block's first byte) says, the old one freed.
void* ReallocSplit(void* old, size_t size, int head_tier, bool routing, void* ret, void* fp) {
  int target = routing ? ReallocPlacement(size, ret, fp) : kKeepPlacement;
  if (target == kKeepPlacement) target = head_tier;
  if (target >= kQuotaPlacement)
    return MoveTo(QuotaAlloc(target - kQuotaPlacement, size, 0), old, size);
  if (target == kDefaultTier) return MoveTo(AllocWithFlags(size, DefaultFlags()), old, size);
  return MoveTo(TierAlloc(target, size, 0), old, size);
}

}  // namespace

void* Reallocate(void* old, size_t size, int tier, void* ret, void* fp) {
  // A block a handler allocated (nested_heap.h), resized outside a handler: it moves to where a
  // new block from here goes.
  if (tier < 0 && __builtin_expect(IsNestedBlock(old), 0)) {
    void* p = PlacedAlloc(size, 0, ret, fp);
    if (p == nullptr) return nullptr;
    std::memcpy(p, old, std::min(g_state.nested.UsableSize(old), size));
    g_state.nested.Free(old);
    return p;
  }
  const int quota = QuotaOfBlock(old, tier);
  const bool routing = g_state.routing.load(std::memory_order_relaxed) && t_thread.guard == 0;
  if (SplitBlocks::Head head; __builtin_expect(g_state.splits.any(), 0) && tier > 0 &&
                              g_state.splits.Find(reinterpret_cast<uintptr_t>(old), &head)) {
    return ReallocSplit(old, size, head.tier, routing, ret, fp);
  }
  // A block of the default placement that stays below min_size is on the default placement
  // whichever the site (a named one sends it there, any other keeps it there): no stack walk.
  if (!routing || (tier < 0 && size < g_state.min_size)) {
    return ResizeKept(old, size, tier, quota, false);
  }
  int target = ReallocPlacement(size, ret, fp);
  if (target == kKeepPlacement) return ResizeKept(old, size, tier, quota, true);
  if (target >= kQuotaPlacement) {
    const int q = target - kQuotaPlacement;
    if (quota != q) return MoveTo(QuotaAlloc(q, size, 0), old, size);
    // Its own quota's block: as if freed, then allocated again at the new size.
    Quota& limits = g_state.quotas[q];
    const size_t old_usable = sallocx(old, 0), new_usable = nallocx(size, 0);
    if (new_usable != 0 && (new_usable <= old_usable || limits.Take(new_usable - old_usable))) {
      if (void* p = rallocx(old, size, QuotaFlags(q))) {
        limits.used.fetch_add(sallocx(p, 0) - old_usable, std::memory_order_relaxed);
        CountPlaced(limits.tier, size);
        Bump(Counters().quota_allocs[q], 1);
        return p;
      }
      if (new_usable > old_usable) limits.Give(new_usable - old_usable);
      return MoveTo(TierAllocFallback(limits.tier, size, 0), old, size);  // the tier is full
    }
    Bump(Counters().quota_over[q], 1);
    target = limits.next;  // over the quota: the next tier, like a new allocation
  }
  if (target == kDefaultTier) {
    if (tier < 0) return rallocx(old, size, DefaultFlags());
    return MoveTo(AllocWithFlags(size, DefaultFlags()), old, size);
  }
  if (target == tier && quota < 0) return ResizeKept(old, size, tier, -1, true);
  return MoveTo(TierAlloc(target, size, 0), old, size);
}

}  // namespace tierscope::placer
