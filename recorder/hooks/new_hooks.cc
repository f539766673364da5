// operator new/delete in all their forms, intercepted directly (not through malloc) so that
// frames[0] of a C++ allocation is in user code rather than inside libstdc++.
#include <cstdlib>
#include <new>

#include "hook_support.h"

using namespace tierscope::recorder;
namespace trace = tierscope::trace;

namespace {

// The real allocator, without recording (the caller records once, as NEW/NEW_ARRAY).
void* RawAllocate(size_t size, size_t alignment) {
  if (alignment == 0) {
    if (!Ready(real.malloc) || real.malloc == nullptr) return BootstrapAlloc(size, 16);
    return real.malloc(size);
  }
  if (!Ready(real.posix_memalign) || real.posix_memalign == nullptr) {
    return BootstrapAlloc(size, alignment);
  }
  void* p = nullptr;
  return real.posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}

// The standard's loop: call the new_handler until memory comes or there is none.
__attribute__((always_inline)) inline void* NewImpl(size_t size, size_t alignment, bool nothrow,
                                                    trace::EventKind kind) {
  if (size == 0) size = 1;
  while (true) {
    void* p;
    {
      HookScope scope;
      p = RawAllocate(size, alignment);
      if (p != nullptr) {
        if (scope.recording()) RecordAlloc(kind, p, size);
        return p;
      }
    }
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
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

__attribute__((always_inline)) inline void DeleteImpl(void* p, trace::EventKind kind) {
  if (p == nullptr || IsBootstrapPointer(p)) return;
  if (!Ready(real.free) || real.free == nullptr) return;
  HookScope scope;
  if (scope.recording()) RecordRelease(kind, p, 0);
  real.free(p);
}

constexpr size_t A(std::align_val_t a) {
  return static_cast<size_t>(a);
}

}  // namespace

#define TS_NEW __attribute__((visibility("default")))

TS_NEW void* operator new(size_t n) {
  return NewImpl(n, 0, false, trace::NEW);
}
TS_NEW void* operator new[](size_t n) {
  return NewImpl(n, 0, false, trace::NEW_ARRAY);
}
TS_NEW void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return NewImpl(n, 0, true, trace::NEW);
}
TS_NEW void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return NewImpl(n, 0, true, trace::NEW_ARRAY);
}
TS_NEW void* operator new(size_t n, std::align_val_t a) {
  return NewImpl(n, A(a), false, trace::NEW);
}
TS_NEW void* operator new[](size_t n, std::align_val_t a) {
  return NewImpl(n, A(a), false, trace::NEW_ARRAY);
}
TS_NEW void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return NewImpl(n, A(a), true, trace::NEW);
}
TS_NEW void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return NewImpl(n, A(a), true, trace::NEW_ARRAY);
}

TS_NEW void operator delete(void* p) noexcept {
  DeleteImpl(p, trace::DELETE);
}
TS_NEW void operator delete[](void* p) noexcept {
  DeleteImpl(p, trace::DELETE_ARRAY);
}
TS_NEW void operator delete(void* p, size_t) noexcept {
  DeleteImpl(p, trace::DELETE);
}
TS_NEW void operator delete[](void* p, size_t) noexcept {
  DeleteImpl(p, trace::DELETE_ARRAY);
}
TS_NEW void operator delete(void* p, const std::nothrow_t&) noexcept {
  DeleteImpl(p, trace::DELETE);
}
TS_NEW void operator delete[](void* p, const std::nothrow_t&) noexcept {
  DeleteImpl(p, trace::DELETE_ARRAY);
}
TS_NEW void operator delete(void* p, std::align_val_t) noexcept {
  DeleteImpl(p, trace::DELETE);
}
TS_NEW void operator delete[](void* p, std::align_val_t) noexcept {
  DeleteImpl(p, trace::DELETE_ARRAY);
}
TS_NEW void operator delete(void* p, size_t, std::align_val_t) noexcept {
  DeleteImpl(p, trace::DELETE);
}
TS_NEW void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  DeleteImpl(p, trace::DELETE_ARRAY);
}
TS_NEW void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  DeleteImpl(p, trace::DELETE);
}
TS_NEW void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  DeleteImpl(p, trace::DELETE_ARRAY);
}
