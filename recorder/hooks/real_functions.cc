#include "real_functions.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace tierscope::recorder {

RealFunctions real;

namespace {

__thread bool t_resolving __attribute__((tls_model("initial-exec"))) = false;
std::atomic<bool> g_resolved{false};

constexpr size_t kBootstrapBytes = 256 << 10;
alignas(64) unsigned char g_bootstrap[kBootstrapBytes];
std::atomic<size_t> g_bootstrap_used{0};

template <typename F>
void Find(F* slot, const char* name) {
  *slot = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

}  // namespace

bool ResolveRealFunctions() {
  if (g_resolved.load(std::memory_order_acquire)) return true;
  if (t_resolving) return false;
  t_resolving = true;
  RealFunctions r{};
  Find(&r.malloc, "malloc");
  Find(&r.free, "free");
  Find(&r.calloc, "calloc");
  Find(&r.realloc, "realloc");
  Find(&r.reallocarray, "reallocarray");
  Find(&r.posix_memalign, "posix_memalign");
  Find(&r.aligned_alloc, "aligned_alloc");
  Find(&r.memalign, "memalign");
  Find(&r.valloc, "valloc");
  Find(&r.pvalloc, "pvalloc");
  Find(&r.malloc_usable_size, "malloc_usable_size");
  Find(&r.mmap, "mmap");
  Find(&r.munmap, "munmap");
  Find(&r.mremap, "mremap");
  Find(&r.pthread_create, "pthread_create");
  Find(&r.dlopen, "dlopen");
  Find(&r.dlclose, "dlclose");
  Find(&r.exit, "exit");
  Find(&r._exit, "_exit");
  Find(&r.execve, "execve");
  Find(&r.execvpe, "execvpe");
  Find(&r.fexecve, "fexecve");
  Find(&r.execveat, "execveat");
  Find(&r.posix_spawn, "posix_spawn");
  Find(&r.posix_spawnp, "posix_spawnp");
  real = r;
  t_resolving = false;
  g_resolved.store(true, std::memory_order_release);
  return true;
}

// Layout: [size (8 bytes)][padding to alignment][block]; the size sits just before the block.
void* BootstrapAlloc(size_t size, size_t alignment) {
  if (alignment < 16) alignment = 16;
  size_t used = g_bootstrap_used.load(std::memory_order_relaxed);
  while (true) {
    const size_t block = (used + sizeof(uint64_t) + alignment - 1) & ~(alignment - 1);
    const size_t end = block + ((size + 15) & ~size_t{15});
    if (end > kBootstrapBytes) return nullptr;
    if (g_bootstrap_used.compare_exchange_weak(used, end, std::memory_order_relaxed)) {
      const uint64_t s = size;
      std::memcpy(g_bootstrap + block - sizeof s, &s, sizeof s);
      return g_bootstrap + block;  // static storage: already zero, calloc needs nothing more
    }
  }
}

bool IsBootstrapPointer(const void* p) {
  const auto* c = static_cast<const unsigned char*>(p);
  return c >= g_bootstrap && c < g_bootstrap + kBootstrapBytes;
}

size_t BootstrapSize(const void* p) {
  uint64_t s;
  std::memcpy(&s, static_cast<const unsigned char*>(p) - sizeof s, sizeof s);
  return s;
}

}  // namespace tierscope::recorder
