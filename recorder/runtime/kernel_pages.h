// Memory for the recorder's own structures, straight from the kernel: never through the
// program's allocator, and never through the recorder's own mmap hook.
#pragma once

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

namespace tierscope::recorder {

// Zero-filled, lazily backed pages (MAP_NORESERVE); null on failure.
inline void* RawMap(size_t bytes) {
  const long r = syscall(SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return r < 0 && r > -4096 ? nullptr : reinterpret_cast<void*>(r);
}

inline void RawUnmap(void* p, size_t bytes) {
  syscall(SYS_munmap, p, bytes);
}

}  // namespace tierscope::recorder
