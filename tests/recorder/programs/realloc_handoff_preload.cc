// Preloaded after the recorder, so that the recorder's realloc hook calls this realloc: it moves a
// block, and before returning hands the old address to the next realloc(nullptr, 40) of another
// thread (ts_test_set_realloc_handoff's callback lets that thread run), like an allocator whose
// free list another thread pops while the realloc is still inside the allocator.
#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace {

using Realloc = void* (*)(void*, size_t);
std::atomic<void (*)()> g_handoff{nullptr};
std::atomic<void*> g_reserved{nullptr};

Realloc Next() {
  static Realloc next = reinterpret_cast<Realloc>(dlsym(RTLD_NEXT, "realloc"));
  return next;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void ts_test_set_realloc_handoff(void (*fn)()) {
  g_handoff.store(fn);
}

extern "C" __attribute__((visibility("default"))) void* realloc(void* old, size_t size) {
  if (old == nullptr && size == 40) {
    if (void* reserved = g_reserved.exchange(nullptr)) return reserved;
  }
  void (*handoff)() = old != nullptr ? g_handoff.exchange(nullptr) : nullptr;
  if (handoff == nullptr) return Next()(old, size);
  void* moved = Next()(nullptr, size);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, old, std::min(size, malloc_usable_size(old)));
  g_reserved.store(old);  // given back: the other thread's next realloc(nullptr, 40) gets it
  handoff();
  return moved;
}
