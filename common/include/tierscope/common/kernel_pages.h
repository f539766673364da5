// Memory for tierscope's own structures inside a program (the recorder's and the placer's),
// straight from the kernel: never through the program's allocator, and never through the
// preloaded library's own mmap hook (a raw system call, not the C library's mmap).
#pragma once

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

namespace tierscope::common {

// Zero-filled, lazily backed pages (MAP_NORESERVE); null on failure. A table that is mostly
// never used costs only the pages touched: construct nothing in it (zero is its empty state).
inline void* RawMap(size_t bytes) {
  const long r = syscall(SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return r < 0 && r > -4096 ? nullptr : reinterpret_cast<void*>(r);
}

// Zero-filled pages in transparent huge pages where the system allows them on request (madvise
// mode; refused where THP is off: 4 KiB pages): one page fault per 2 MiB instead of 512, each a
// trap that costs microseconds in a VM.
inline void* RawMapHugePages(size_t bytes) {
  void* p = RawMap(bytes);
  if (p != nullptr) madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

// For a hashed table that is probed before it is written. A read of a fresh page maps the shared
// zero page, and the first write after it copies that page and flushes it from the TLB of every
// CPU that runs the program's threads: an interprocessor interrupt, costly in a VM. With 4 KiB
// pages that happens once per page the hash reaches (nearly all of them, soon); with transparent
// huge pages (where the system allows them on request) once per 2 MiB.
inline void* RawMapTable(size_t bytes) {
  return RawMapHugePages(bytes);
}

inline void RawUnmap(void* p, size_t bytes) {
  if (p != nullptr) syscall(SYS_munmap, p, bytes);
}

// `count` zero-filled T (whose all-zero bytes must be a valid, empty T); null on failure.
template <typename T>
T* MapArray(size_t count) {
  return static_cast<T*>(RawMap(count * sizeof(T)));
}

template <typename T>
void UnmapArray(T* p, size_t count) {
  RawUnmap(p, count * sizeof(T));
}

}  // namespace tierscope::common
