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

// For a hashed table that is probed before it is written. A read of a fresh page maps the shared
// zero page, and the first write after it copies that page and flushes it from the TLB of every
// CPU that runs the program's threads: an interprocessor interrupt, costly in a VM. With 4 KiB
// pages that happens once per page the hash reaches (nearly all of them, soon); with transparent
// huge pages (where the system allows them on request) once per 2 MiB.
inline void* RawMapTable(size_t bytes) {
  void* p = RawMap(bytes);
  if (p != nullptr) madvise(p, bytes, MADV_HUGEPAGE);  // refused where THP is off: 4 KiB pages
  return p;
}

inline void RawUnmap(void* p, size_t bytes) {
  syscall(SYS_munmap, p, bytes);
}

}  // namespace tierscope::recorder
