// The C allocation API. Each hook calls the real function, then records the event with the
// caller's stack. Releases are stamped before the block is given back (realloc's inside the real
// call: BeginRelease), so a reuse of the address by another thread always has a later time.
#include <malloc.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "hook_support.h"

using namespace tierscope::recorder;
using tierscope::trace::EventKind;

namespace {

void* BootstrapOrNull(size_t size, size_t alignment = 16) {
  return BootstrapAlloc(size, alignment);
}

}  // namespace

TS_EXPORT void* malloc(size_t size) {
  if (!Ready(real.malloc) || real.malloc == nullptr) return BootstrapOrNull(size);
  HookScope scope;
  void* p = real.malloc(size);
  if (scope.recording()) RecordAlloc(tierscope::trace::MALLOC, p, size);
  return p;
}

TS_EXPORT void free(void* p) {
  if (p == nullptr || IsBootstrapPointer(p)) return;
  if (!Ready(real.free) || real.free == nullptr) return;  // cannot happen: p came from somewhere
  HookScope scope;
  if (scope.recording()) RecordRelease(tierscope::trace::FREE, p, 0);
  real.free(p);
}

TS_EXPORT void* calloc(size_t n, size_t size) {
  if (!Ready(real.calloc) || real.calloc == nullptr) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) return nullptr;
    return BootstrapOrNull(total);
  }
  HookScope scope;
  void* p = real.calloc(n, size);
  if (scope.recording()) RecordAlloc(tierscope::trace::CALLOC, p, n * size);
  return p;
}

TS_EXPORT void* realloc(void* old, size_t size) {
  if (old != nullptr && IsBootstrapPointer(old)) {
    void* p = malloc(size);
    if (p != nullptr) std::memcpy(p, old, std::min(size, BootstrapSize(old)));
    return p;
  }
  if (!Ready(real.realloc) || real.realloc == nullptr) return BootstrapOrNull(size);
  HookScope scope;
  const PendingRelease release =
      scope.recording() ? BeginRelease(tierscope::trace::REALLOC_FREE, old) : PendingRelease{};
  void* p = real.realloc(old, size);
  if (scope.recording()) {
    // realloc(p, 0) frees p; a failed realloc leaves the old block alone.
    EndRelease(release, tierscope::trace::REALLOC_FREE, old, 0, p != nullptr || size == 0);
    if (p != nullptr) RecordAlloc(tierscope::trace::REALLOC, p, size);
  }
  return p;
}

TS_EXPORT void* reallocarray(void* old, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  if ((old != nullptr && IsBootstrapPointer(old)) || !Ready(real.reallocarray) ||
      real.reallocarray == nullptr) {
    return realloc(old, total);
  }
  HookScope scope;
  const PendingRelease release =
      scope.recording() ? BeginRelease(tierscope::trace::REALLOC_FREE, old) : PendingRelease{};
  void* p = real.reallocarray(old, n, size);
  if (scope.recording()) {
    EndRelease(release, tierscope::trace::REALLOC_FREE, old, 0, p != nullptr || total == 0);
    if (p != nullptr) RecordAlloc(tierscope::trace::REALLOCARRAY, p, total);
  }
  return p;
}

TS_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) {
  if (!Ready(real.posix_memalign) || real.posix_memalign == nullptr) {
    *out = BootstrapOrNull(size, alignment);
    return *out != nullptr ? 0 : ENOMEM;
  }
  HookScope scope;
  const int r = real.posix_memalign(out, alignment, size);
  if (r == 0 && scope.recording()) RecordAlloc(tierscope::trace::POSIX_MEMALIGN, *out, size);
  return r;
}

TS_EXPORT void* aligned_alloc(size_t alignment, size_t size) {
  if (!Ready(real.aligned_alloc) || real.aligned_alloc == nullptr) {
    return BootstrapOrNull(size, alignment);
  }
  HookScope scope;
  void* p = real.aligned_alloc(alignment, size);
  if (scope.recording()) RecordAlloc(tierscope::trace::ALIGNED_ALLOC, p, size);
  return p;
}

TS_EXPORT void* memalign(size_t alignment, size_t size) {
  if (!Ready(real.memalign) || real.memalign == nullptr) return BootstrapOrNull(size, alignment);
  HookScope scope;
  void* p = real.memalign(alignment, size);
  if (scope.recording()) RecordAlloc(tierscope::trace::MEMALIGN, p, size);
  return p;
}

TS_EXPORT void* valloc(size_t size) {
  if (!Ready(real.valloc) || real.valloc == nullptr) return BootstrapOrNull(size, 4096);
  HookScope scope;
  void* p = real.valloc(size);
  if (scope.recording()) RecordAlloc(tierscope::trace::VALLOC, p, size);
  return p;
}

TS_EXPORT void* pvalloc(size_t size) {
  if (!Ready(real.pvalloc) || real.pvalloc == nullptr) return BootstrapOrNull(size, 4096);
  HookScope scope;
  void* p = real.pvalloc(size);
  if (scope.recording()) RecordAlloc(tierscope::trace::PVALLOC, p, size);
  return p;
}

TS_EXPORT size_t malloc_usable_size(void* p) {
  if (p == nullptr) return 0;
  if (IsBootstrapPointer(p)) return BootstrapSize(p);
  if (!Ready(real.malloc_usable_size) || real.malloc_usable_size == nullptr) return 0;
  return real.malloc_usable_size(p);
}
