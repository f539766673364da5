#include "nested_entry.h"

#include <pthread.h>
#include <signal.h>

#include <cstring>

namespace tierscope::placer {

__thread int t_entry_depth __attribute__((tls_model("initial-exec"))) = 0;
__thread void* t_deferred_frees __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

// Used only when the nested heap could not reserve its space: jemalloc, from an arena of its own.
int g_nested_flags = MALLOCX_TCACHE_NONE;
// Address space only (MAP_NORESERVE): what handlers hold at one time is far less.
constexpr uint64_t kNestedReservation = uint64_t{16} << 30;

}  // namespace

void CreateNestedHeap() {
  if (g_state.nested.Reserve(kNestedReservation)) return;
  unsigned arena = 0;
  size_t len = sizeof(arena);
  if (mallctl("arenas.create", &arena, &len, nullptr, 0) == 0) {
    g_nested_flags = MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE;
  }
}

void* NestedAlloc(size_t size, int flags) {
  if (t_thread.guard == 0) g_state.handler_allocs.fetch_add(1, std::memory_order_relaxed);
  if (__builtin_expect(!g_state.nested.ready(), 0)) {
    return mallocx(size == 0 ? 1 : size, flags | g_nested_flags);
  }
  const int lg_align = flags & 0x3f;  // MALLOCX_LG_ALIGN's bits
  return g_state.nested.Alloc(size, lg_align ? size_t{1} << lg_align : 0,
                              (flags & MALLOCX_ZERO) != 0);
}

void* NestedRealloc(EntryScope& entry, void* old, size_t size) {
  void* p = NestedAlloc(size, 0);
  if (p == nullptr) return nullptr;
  // sallocx reads jemalloc's page map through the same per-thread cache (nested_heap.h): the one
  // jemalloc call left to a handler, for a realloc of a block it did not allocate.
  const size_t old_size = IsNestedBlock(old) ? g_state.nested.UsableSize(old) : sallocx(old, 0);
  std::memcpy(p, old, old_size < size ? old_size : size);
  entry.DeferFree(old);
  return p;
}

void FreeDeferred() {
  // With every signal blocked: a handler landing between the read of the list's head and its
  // update would push a block this loop then drops, and one landing inside jemalloc's free would
  // be a nested call there. Two system calls, only when a handler deferred a free. Handlers held
  // back meanwhile run once the mask is restored, find the depth still raised and push onto the
  // list again: the loop frees those too.
  sigset_t all, old;
  sigfillset(&all);
  while (t_deferred_frees != nullptr) {
    pthread_sigmask(SIG_BLOCK, &all, &old);
    while (void* p = t_deferred_frees) {
      t_deferred_frees = *static_cast<void**>(p);
      ReleaseBlock(p);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
}

}  // namespace tierscope::placer
