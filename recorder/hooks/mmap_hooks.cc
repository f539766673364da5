// Anonymous mappings: large allocations and custom allocators live there. File mappings are
// passed through unrecorded; munmap is recorded for every range (it may cover part of one).
#include <sys/mman.h>

#include <cstdarg>

#include "hook_support.h"

using namespace tierscope::recorder;

TS_EXPORT void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  if (!Ready(real.mmap) || real.mmap == nullptr) return MAP_FAILED;
  HookScope scope;
  void* p = real.mmap(addr, length, prot, flags, fd, offset);
  if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) != 0 && scope.recording()) {
    RecordAlloc(tierscope::trace::MMAP, p, length);
  }
  return p;
}

TS_EXPORT void* mmap64(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  return mmap(addr, length, prot, flags, fd, offset);
}

TS_EXPORT int munmap(void* addr, size_t length) {
  if (!Ready(real.munmap) || real.munmap == nullptr) return -1;
  HookScope scope;
  if (scope.recording()) RecordRelease(tierscope::trace::MUNMAP, addr, length);
  return real.munmap(addr, length);
}

TS_EXPORT void* mremap(void* old, size_t old_size, size_t new_size, int flags, ...) {
  void* new_address = nullptr;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    new_address = va_arg(ap, void*);
    va_end(ap);
  }
  if (!Ready(real.mremap) || real.mremap == nullptr) return MAP_FAILED;
  HookScope scope;
  const PendingRelease release =
      scope.recording() ? BeginRelease(tierscope::trace::MREMAP_UNMAP, old) : PendingRelease{};
  void* p = real.mremap(old, old_size, new_size, flags, new_address);
  if (scope.recording()) {
    EndRelease(release, tierscope::trace::MREMAP_UNMAP, old, old_size, p != MAP_FAILED);
    if (p != MAP_FAILED) RecordAlloc(tierscope::trace::MREMAP, p, new_size);
  }
  return p;
}
