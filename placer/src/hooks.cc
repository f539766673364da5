// Every allocation entry point of the C library and of the C++ runtime, defined here so that as
// the first LD_PRELOAD the placer owns every allocation from process start. Each is implemented
// with jemalloc's non-standard API (mallocx/rallocx/dallocx/sdallocx/sallocx) and, for the
// primary placement, jemalloc's own malloc/free reached through pointers (allocation_path.h): a
// call to malloc or free by name from this library would bind back to these very definitions. As
// every pointer comes from jemalloc, free/realloc/malloc_usable_size are correct for any of them.
// Program mappings (mmap/mremap/munmap) are in mmap_placement.cc.
//
// Each exported function captures its own return address and frame: frames[0] of a site is the
// caller of the entry point (docs/architecture.md, "Stacks and site identity").
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "allocation_path.h"
#include "nested_entry.h"

#define TS_EXPORT extern "C" __attribute__((visibility("default")))
#define TS_CALLER __builtin_return_address(0), __builtin_frame_address(0)

using namespace tierscope::placer;

namespace {

TS_ALWAYS_INLINE void* WithErrno(void* p) {
  if (__builtin_expect(p == nullptr, 0)) errno = ENOMEM;
  return p;
}

TS_ALWAYS_INLINE bool PowerOfTwo(size_t x) {
  return x && !(x & (x - 1));
}

// A nested call (nested_entry.h) neither routes nor touches this thread's caches.
TS_ALWAYS_INLINE void* Alloc(EntryScope& entry, size_t size, int flags, void* ret, void* fp) {
  if (__builtin_expect(entry.nested(), 0)) return NestedAlloc(size, flags);
  return PlacedAlloc(size, flags, ret, fp);
}

TS_ALWAYS_INLINE void Release(EntryScope& entry, void* p) {
  if (p && !entry.DeferFree(p)) ReleaseBlock(p);
}

TS_ALWAYS_INLINE void ReleaseSized(EntryScope& entry, void* p, size_t size, int align_flags) {
  if (p == nullptr || entry.DeferFree(p)) return;
  const int tier = g_state.arenas.TierOf(p);
  if (tier < 0 && __builtin_expect(IsNestedBlock(p), 0)) return g_state.nested.Free(p);
  if (const int quota = QuotaOfBlock(p, tier); __builtin_expect(quota >= 0, 0)) {
    return ReleaseQuotaBlock(p, quota, size ? size : 1, align_flags);
  }
  ForgetIfSplit(p, tier);
  sdallocx(p, size ? size : 1, align_flags | FlagsForTier(tier));
}

// realloc: the plan's placement for a realloc from a site it names, else the block's own
// (allocation_path.h, Reallocate).
TS_ALWAYS_INLINE void* Resize(EntryScope& entry, void* old, size_t size, void* ret, void* fp) {
  if (old == nullptr) return WithErrno(Alloc(entry, size, 0, ret, fp));
  if (size == 0) {  // glibc: realloc(p, 0) frees p and returns NULL
    Release(entry, old);
    return nullptr;
  }
  if (__builtin_expect(entry.nested(), 0)) return WithErrno(NestedRealloc(entry, old, size));
  return WithErrno(Reallocate(old, size, g_state.arenas.TierOf(old), ret, fp));
}

// operator new: retry through the new_handler, then throw (or return NULL for nothrow forms).
TS_ALWAYS_INLINE void* NewImpl(EntryScope& entry, size_t size, int align_flags, bool nothrow,
                               void* ret, void* fp) {
  for (;;) {
    if (void* p = Alloc(entry, size, align_flags, ret, fp)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    ProgramCode program;  // nested_entry.h
    if (nothrow) {
      try {
        handler();
      } catch (...) {
        return nullptr;
      }
    } else {
      handler();
    }
  }
}

TS_ALWAYS_INLINE int AlignFlags(std::align_val_t al) {
  return MALLOCX_ALIGN(static_cast<size_t>(al));
}

}  // namespace

TS_EXPORT void* malloc(size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  return WithErrno(Alloc(entry, size, 0, TS_CALLER));
}

TS_EXPORT void free(void* p) noexcept {
  EntryScope entry;  // nested_entry.h
  Release(entry, p);
}

TS_EXPORT void* calloc(size_t n, size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) return WithErrno(nullptr);
  return WithErrno(Alloc(entry, total, MALLOCX_ZERO, TS_CALLER));
}

TS_EXPORT void* realloc(void* old, size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  return Resize(entry, old, size, TS_CALLER);
}

TS_EXPORT void* reallocarray(void* old, size_t n, size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) return WithErrno(nullptr);
  return Resize(entry, old, total, TS_CALLER);
}

TS_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  if (!PowerOfTwo(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
  void* p = Alloc(entry, size, MALLOCX_ALIGN(alignment), TS_CALLER);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

TS_EXPORT void* aligned_alloc(size_t alignment, size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  if (!PowerOfTwo(alignment)) {
    errno = EINVAL;
    return nullptr;
  }
  return WithErrno(Alloc(entry, size, MALLOCX_ALIGN(alignment), TS_CALLER));
}

TS_EXPORT void* memalign(size_t alignment, size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  // glibc rounds a non-power-of-two alignment up to the next power of two.
  size_t a = alignment < sizeof(void*) ? sizeof(void*) : alignment;
  if (!PowerOfTwo(a)) a = size_t{1} << (64 - __builtin_clzl(a));
  return WithErrno(Alloc(entry, size, MALLOCX_ALIGN(a), TS_CALLER));
}

TS_EXPORT void* valloc(size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  return WithErrno(Alloc(entry, size, MALLOCX_ALIGN(sysconf(_SC_PAGESIZE)), TS_CALLER));
}

TS_EXPORT void* pvalloc(size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  const size_t page = sysconf(_SC_PAGESIZE);
  const size_t rounded = (size + page - 1) & ~(page - 1);
  if (rounded < size) return WithErrno(nullptr);
  return WithErrno(Alloc(entry, rounded ? rounded : page, MALLOCX_ALIGN(page), TS_CALLER));
}

TS_EXPORT size_t malloc_usable_size(void* p) noexcept {
  EntryScope entry;  // nested_entry.h
  if (p == nullptr) return 0;
  return IsNestedBlock(p) ? g_state.nested.UsableSize(p) : sallocx(p, 0);
}

// --- C++ ---
void* operator new(size_t size) {
  EntryScope entry;  // nested_entry.h
  return NewImpl(entry, size, 0, false, TS_CALLER);
}
void* operator new[](size_t size) {
  EntryScope entry;  // nested_entry.h
  return NewImpl(entry, size, 0, false, TS_CALLER);
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  EntryScope entry;  // nested_entry.h
  return NewImpl(entry, size, 0, true, TS_CALLER);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  EntryScope entry;  // nested_entry.h
  return NewImpl(entry, size, 0, true, TS_CALLER);
}
void* operator new(size_t size, std::align_val_t al) {
  EntryScope entry;  // nested_entry.h
  return NewImpl(entry, size, AlignFlags(al), false, TS_CALLER);
}
void* operator new[](size_t size, std::align_val_t al) {
  EntryScope entry;  // nested_entry.h
  return NewImpl(entry, size, AlignFlags(al), false, TS_CALLER);
}
void* operator new(size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  EntryScope entry;  // nested_entry.h
  return NewImpl(entry, size, AlignFlags(al), true, TS_CALLER);
}
void* operator new[](size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  EntryScope entry;  // nested_entry.h
  return NewImpl(entry, size, AlignFlags(al), true, TS_CALLER);
}

void operator delete(void* p) noexcept {
  EntryScope entry;  // nested_entry.h
  Release(entry, p);
}
void operator delete[](void* p) noexcept {
  EntryScope entry;  // nested_entry.h
  Release(entry, p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  EntryScope entry;  // nested_entry.h
  Release(entry, p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  EntryScope entry;  // nested_entry.h
  Release(entry, p);
}
void operator delete(void* p, size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  ReleaseSized(entry, p, size, 0);
}
void operator delete[](void* p, size_t size) noexcept {
  EntryScope entry;  // nested_entry.h
  ReleaseSized(entry, p, size, 0);
}
void operator delete(void* p, std::align_val_t) noexcept {
  EntryScope entry;  // nested_entry.h
  Release(entry, p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  EntryScope entry;  // nested_entry.h
  Release(entry, p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  EntryScope entry;  // nested_entry.h
  Release(entry, p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  EntryScope entry;  // nested_entry.h
  Release(entry, p);
}
void operator delete(void* p, size_t size, std::align_val_t al) noexcept {
  EntryScope entry;  // nested_entry.h
  ReleaseSized(entry, p, size, AlignFlags(al));
}
void operator delete[](void* p, size_t size, std::align_val_t al) noexcept {
  EntryScope entry;  // nested_entry.h
  ReleaseSized(entry, p, size, AlignFlags(al));
}
