// The placer's own memory: anonymous mappings, never the program's heap, never interleaved with
// user data.
#pragma once

#include <sys/mman.h>

#include <cstddef>

namespace tierscope::placer {

template <typename T>
T* MapArray(size_t count) {
  void* p = mmap(nullptr, count * sizeof(T), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<T*>(p);
}

template <typename T>
void UnmapArray(T* p, size_t count) {
  if (p) munmap(p, count * sizeof(T));
}

}  // namespace tierscope::placer
