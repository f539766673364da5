#include "nested_entry.h"

#include <pthread.h>
#include <signal.h>

#include <cstring>

namespace tierscope::placer {

__thread int t_entry_depth __attribute__((tls_model("initial-exec"))) = 0;
__thread void* t_deferred_frees __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {
int g_nested_flags = MALLOCX_TCACHE_NONE;  // until CreateNestedArena (or when it failed)
}  // namespace

void CreateNestedArena() {
  unsigned arena = 0;
  size_t len = sizeof(arena);
  if (mallctl("arenas.create", &arena, &len, nullptr, 0) == 0) {
    g_nested_flags = MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE;
  }
}

void* NestedAlloc(size_t size, int flags) {
  return mallocx(size == 0 ? 1 : size, flags | g_nested_flags);
}

void* NestedRealloc(EntryScope& entry, void* old, size_t size) {
  void* p = NestedAlloc(size, 0);
  if (p == nullptr) return nullptr;
  const size_t old_size = sallocx(old, 0);  // reads jemalloc's page map: no lock, no cache
  std::memcpy(p, old, old_size < size ? old_size : size);
  entry.DeferFree(old);
  return p;
}

void FreeDeferred() {
  // With every signal blocked: a deferred block is most often one a handler allocated, from the
  // nested calls' arena, and freeing it takes that arena's lock; a handler that interrupted it
  // there and allocated (a nested call, from that very arena) waited for its own thread for ever
  // (tests/faults, signals, under load). Two system calls, only when a handler deferred a free.
  // Handlers held back meanwhile run once the mask is restored, find the depth still raised and
  // push onto the list again: the loop frees those too.
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
