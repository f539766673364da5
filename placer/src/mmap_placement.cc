// The program's own anonymous mappings (mmap, mremap, munmap), the allocation entry points the
// recorder records besides malloc and new (placer/README.md). A private
// anonymous mapping made at a site the plan sends to a tier is bound to the tier's nodes with
// one mbind right after the kernel made it: it stays one VMA (vm.max_map_count is unaffected)
// and every page faulted in later lands on the tier. It counts against the tier's budget until
// it is unmapped; when the tier is full it goes to the next one, then to the kernel's placement.
//
// mremap: the kernel carries a mapping's policy along when it moves or grows it, so a placed
// mapping keeps its tier; growth that no longer fits the budget is bound to the next tier.
// Mappings of the placer itself, of jemalloc (its default arenas) and of libunwind, file and
// shared mappings, MAP_FIXED and PROT_NONE reservations are never routed.
//
// The real calls are the system calls themselves: glibc's mmap/munmap/mremap are thin wrappers,
// and looking them up with dlsym could allocate.
#include <numaif.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>

#include "allocation_path.h"

#define TS_EXPORT extern "C" __attribute__((visibility("default")))

using namespace tierscope::placer;

namespace {

void* RawMmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  return reinterpret_cast<void*>(syscall(SYS_mmap, addr, len, prot, flags, fd, off));
}
void* RawMremap(void* old, size_t old_len, size_t new_len, int flags, void* new_addr) {
  return reinterpret_cast<void*>(syscall(SYS_mremap, old, old_len, new_len, flags, new_addr));
}

size_t PageRound(size_t len) {
  const size_t page = static_cast<size_t>(getpagesize());
  return (len + page - 1) & ~(page - 1);
}

bool Routable(int prot, int flags) {
  return (flags & MAP_ANONYMOUS) && (flags & MAP_TYPE) == MAP_PRIVATE && !(flags & MAP_FIXED) &&
         prot != PROT_NONE;
}

// The placed-ranges lock, taken by a program thread. The guard is up while it is held, so that a
// fork() from a signal handler that interrupted the holder does not wait for it (ForkPrepare);
// the thread that holds every lock for a fork (another library's fork handler unmapping memory)
// does not take it again.
class RangesLock {
 public:
  RangesLock() : taken_(!t_thread.fork_locked) {
    t_thread.guard++;
    if (taken_) g_state.maps.Lock();
  }
  ~RangesLock() {
    if (taken_) g_state.maps.Unlock();
    t_thread.guard--;
  }
  RangesLock(const RangesLock&) = delete;
  RangesLock& operator=(const RangesLock&) = delete;

 private:
  const bool taken_;
};

bool Within(uintptr_t a, uintptr_t lo, uintptr_t hi) {
  return a >= lo && a < hi;
}

// Calls from the allocator, the unwinder or the placer: their memory is not the program's.
bool InternalCaller(void* ret) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(ret);
  return Within(a, g_state.own_text_lo, g_state.own_text_hi) ||
         Within(a, g_state.jemalloc_lo, g_state.jemalloc_hi) ||
         Within(a, g_state.libunwind_lo, g_state.libunwind_hi);
}

// Forgets [addr, addr + len) (unmapped or replaced) and gives its bytes back to the budgets.
// Needs the table's lock.
int Forget(void* addr, size_t len) {
  uint64_t released[kMaxTiers] = {};
  const int tier = g_state.maps.Remove(reinterpret_cast<uintptr_t>(addr), len, released);
  for (int t = 0; t < g_state.arenas.count(); ++t) {
    if (released[t]) g_state.arenas.Release(t, released[t]);
  }
  return tier;
}

// Puts the new mapping [p, p + len) on `tier`, or the first slower tier with room (counted).
// Returns the tier it went to, or -1 (the kernel's placement).
int Place(void* p, size_t len, int tier, bool populated) {
  ThreadCounters& c = Counters();
  TierArenas& arenas = g_state.arenas;
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  for (int t = tier; t < arenas.count(); ++t) {
    if (!arenas.Charge(t, len)) continue;
    bool added;
    {
      RangesLock lock;
      added = g_state.maps.Add(start, len, t);
    }
    if (added && arenas.BindRange(t, p, len, populated)) {
      if (t != tier) Bump(c.fallbacks[tier], 1);
      Bump(c.allocs[t], 1);
      Bump(c.bytes[t], len);
      return t;
    }
    if (added) {
      RangesLock lock;
      Forget(p, len);
    } else {
      arenas.Release(t, len);
    }
    break;  // table full or mbind refused: nothing better to try
  }
  Bump(c.fallbacks[tier], 1);
  Bump(c.to_default, 1);
  return -1;
}

}  // namespace

TS_EXPORT void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) noexcept {
  void* const ret = __builtin_return_address(0);
  void* const fp = __builtin_frame_address(0);
  if ((flags & MAP_FIXED) && !g_state.maps.empty()) {
    // Replaces whatever was mapped there, maybe a placed mapping: forget it under the lock.
    RangesLock lock;
    void* p = RawMmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED) Forget(p, PageRound(len));
    return p;
  }
  void* p = RawMmap(addr, len, prot, flags, fd, off);
  if (p == MAP_FAILED || !Routable(prot, flags) ||
      !g_state.routing.load(std::memory_order_relaxed) || t_thread.guard != 0 ||
      InternalCaller(ret)) {
    return p;
  }
  // A miss resolves like malloc's (under the try-lock; its own mappings come from the placer's
  // or libunwind's code, which InternalCaller passes through).
  int tier = TierForSite(len, ret, fp);
  // A quota site's mapping goes to the quota's tier whole (quotas count heap blocks only).
  if (tier >= kQuotaPlacement) tier = g_state.quotas[tier - kQuotaPlacement].tier;
  if (tier >= 0) Place(p, PageRound(len), tier, (flags & MAP_POPULATE) != 0);
  return p;
}

TS_EXPORT void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off_t off) noexcept
    __attribute__((alias("mmap")));

TS_EXPORT int munmap(void* addr, size_t len) noexcept {
  if (g_state.maps.empty()) return static_cast<int>(syscall(SYS_munmap, addr, len));
  RangesLock lock;
  const int rc = static_cast<int>(syscall(SYS_munmap, addr, len));
  if (rc == 0) Forget(addr, PageRound(len));
  return rc;
}

TS_EXPORT void* mremap(void* old, size_t old_len, size_t new_len, int flags, ...) noexcept {
  void* new_addr = nullptr;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    new_addr = va_arg(ap, void*);
    va_end(ap);
  }
  if (g_state.maps.empty()) return RawMremap(old, old_len, new_len, flags, new_addr);
  int tier = -1;
  void* p;
  old_len = PageRound(old_len);
  new_len = PageRound(new_len);
  {
    RangesLock lock;
    p = RawMremap(old, old_len, new_len, flags, new_addr);
    if (p == MAP_FAILED) return p;
    tier = Forget(old, old_len);
    if (flags & MREMAP_FIXED) Forget(p, new_len);  // whatever the kernel replaced there
    if (tier < 0) return p;  // not a placed mapping: it keeps the kernel's placement
    // The part that was there moved with its policy: still on its tier, still in its budget.
    const size_t kept = old_len < new_len ? old_len : new_len;
    g_state.arenas.ChargeAnyway(tier, kept);
    g_state.maps.Add(reinterpret_cast<uintptr_t>(p), kept, tier);
  }
  if (new_len <= old_len) return p;
  // Growth: on the same tier when its budget allows (the kernel already bound it there).
  const size_t grown = new_len - old_len;
  void* tail = static_cast<char*>(p) + old_len;
  t_thread.guard++;
  if (g_state.arenas.Charge(tier, grown)) {
    RangesLock lock;
    if (g_state.maps.Add(reinterpret_cast<uintptr_t>(tail), grown, tier)) {
      Bump(Counters().bytes[tier], grown);
    } else {
      g_state.arenas.Release(tier, grown);
    }
  } else if (tier + 1 >= g_state.arenas.count() || Place(tail, grown, tier + 1, false) < 0) {
    // No slower tier had room: the growth gets the kernel's placement (counted by Place, or
    // here when there is no slower tier).
    mbind(tail, grown, MPOL_DEFAULT, nullptr, 0, 0);
    if (tier + 1 >= g_state.arenas.count()) {
      Bump(Counters().fallbacks[tier], 1);
      Bump(Counters().to_default, 1);
    }
  } else {
    Bump(Counters().fallbacks[tier], 1);
  }
  t_thread.guard--;
  return p;
}
