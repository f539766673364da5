#include "nested_entry.h"

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
  // Handlers that run meanwhile find the depth raised and push onto the emptied list, which the
  // loop picks up too.
  while (void* p = t_deferred_frees) {
    t_deferred_frees = *static_cast<void**>(p);
    ReleaseBlock(p);
  }
}

}  // namespace tierscope::placer
