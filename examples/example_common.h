// Shared helpers for the tierscope example programs: argument parsing, a deterministic PRNG,
// an optimizer barrier, and the per-kind allocation call counters that tests compare with traces.
//
// Counting rule: a counter is bumped right next to each allocation call the example code makes
// itself. Allocations made on our behalf by libc or the C++ runtime (stdio buffers, std::thread
// state, dlopen, thread stacks/TLS) are not counted, so a trace may show more calls than these.
#pragma once

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace ts_example {

// splitmix64: tiny, fast, and good enough to drive workloads; same sequence on every platform.
struct SplitMix64 {
  uint64_t state;
  explicit SplitMix64(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

// Stateless 64-bit mixer (the splitmix64 finalizer): hash(x) for keys and per-op seeds.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Makes the compiler believe `p` escapes, so allocation/free pairs cannot be elided.
inline void escape(const void* p) {
  asm volatile("" : : "r"(p) : "memory");
}

// Allocation call kinds, in the fixed order they are printed.
enum Kind : int {
  kMalloc,
  kCalloc,
  kRealloc,
  kReallocarray,
  kPosixMemalign,
  kAlignedAlloc,
  kMemalign,
  kValloc,
  kPvalloc,
  kFree,
  kNew,            // operator new(size_t)
  kNewArray,       // operator new[](size_t)
  kNewAligned,     // operator new(size_t, align_val_t) and new[](size_t, align_val_t)
  kNewNothrow,     // operator new(size_t, nothrow_t) and new[](size_t, nothrow_t)
  kDelete,         // operator delete(void*) (unsized)
  kDeleteArray,    // operator delete[](void*) (unsized)
  kDeleteSized,    // operator delete(void*, size_t) and delete[](void*, size_t)
  kDeleteAligned,  // operator delete(void*, [size_t,] align_val_t), scalar or array
  kMmap,
  kMunmap,
  kMremap,
  kNumKinds
};

inline constexpr const char* kKindNames[kNumKinds] = {
    "malloc",        "calloc",       "realloc",        "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign",     "valloc",         "pvalloc",      "free",
    "new",           "new_array",    "new_aligned",    "new_nothrow",  "delete",
    "delete_array",  "delete_sized", "delete_aligned", "mmap",         "munmap",
    "mremap"};

// Relaxed atomics: threads may allocate concurrently; totals are read after all threads joined.
inline std::atomic<uint64_t> g_counts[kNumKinds];

inline void count(Kind k, uint64_t n = 1) {
  g_counts[k].fetch_add(n, std::memory_order_relaxed);
}

// With TIERSCOPE_EXAMPLE_COUNTS=1, prints one line to stderr:
//   <prog> counts: malloc=N calloc=N ... mremap=N
inline void print_counts(const char* prog) {
  const char* env = std::getenv("TIERSCOPE_EXAMPLE_COUNTS");
  if (env == nullptr || std::string_view(env) != "1") return;
  char line[1024];
  int len = std::snprintf(line, sizeof line, "%s counts:", prog);
  for (int k = 0; k < kNumKinds; ++k) {
    len += std::snprintf(line + len, sizeof line - len, " %s=%" PRIu64, kKindNames[k],
                         g_counts[k].load(std::memory_order_relaxed));
  }
  std::fprintf(stderr, "%s\n", line);
}

[[noreturn]] inline void usage_error(const char* prog, const char* what, const char* arg) {
  std::fprintf(stderr, "%s: %s '%s' (see --help)\n", prog, what, arg);
  std::exit(2);
}

// Parses "--name N" or "--name=N" at argv[*i]. Returns false if argv[*i] is not this option.
// Exits 2 with a one-line error if the value is missing, not a number, or outside [lo, hi].
inline bool parse_u64_opt(const char* prog, int argc, char** argv, int* i, std::string_view name,
                          uint64_t lo, uint64_t hi, uint64_t* out) {
  std::string_view arg = argv[*i];
  const char* value = nullptr;
  if (arg == name) {
    if (*i + 1 >= argc) usage_error(prog, "missing value for", argv[*i]);
    value = argv[++*i];
  } else if (arg.size() > name.size() && arg.substr(0, name.size()) == name &&
             arg[name.size()] == '=') {
    value = argv[*i] + name.size() + 1;
  } else {
    return false;
  }
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(value, &end, 10);
  if (*value < '0' || *value > '9' || *end != '\0' || errno != 0 || v < lo || v > hi) {
    char what[160];
    std::snprintf(what, sizeof what, "%.*s expects an integer in [%" PRIu64 ", %" PRIu64 "], got",
                  static_cast<int>(name.size()), name.data(), lo, hi);
    usage_error(prog, what, value);
  }
  *out = v;
  return true;
}

}  // namespace ts_example
