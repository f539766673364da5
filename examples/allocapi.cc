// ts-example-allocapi: calls every allocation API once or a few times, in a fixed order, and
// checks alignment and contents itself. Tracer tests compare a trace with the per-kind counts
// this program prints (TIERSCOPE_EXAMPLE_COUNTS=1); --rounds N repeats the whole sequence.
//
// C++ operators are called explicitly (::operator new(...)) where the exact replaceable function
// matters, plus a few new-expressions whose choice of operator is fixed by the language (sized
// deallocation is on by default for C++14 and later in g++). Not exercised on purpose: realloc(p,
// 0) (implementation-defined, deprecated in C23) and calls that fail (they allocate nothing).
//
// Runtime notes for trace comparisons: libstdc++ implements the array and nothrow forms of
// operator new/delete by calling the scalar ones, and glibc implements reallocarray, memalign,
// valloc, pvalloc and aligned_alloc with internal calls that an LD_PRELOAD interposer of
// malloc/realloc does not see. The counts below are the calls this program makes.
#include <dlfcn.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "example_common.h"

using ts_example::count;
using ts_example::escape;
namespace k = ts_example;

namespace {

constexpr const char* kProg = "ts-example-allocapi";
bool g_failed = false;
uint64_t g_sum = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s: FAIL %s\n", kProg, what);
    g_failed = true;
  }
}

uint8_t pattern(uint64_t seed, size_t i) {
  return static_cast<uint8_t>(seed * 31 + i * 131 + 7);
}

void fill(void* p, size_t n, uint64_t seed) {
  escape(p);
  auto* b = static_cast<uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) b[i] = pattern(seed, i);
}

// Checks that the first n bytes still hold the pattern and folds them into the checksum.
void verify(const void* p, size_t n, uint64_t seed, const char* what) {
  auto* b = static_cast<const uint8_t*>(p);
  bool ok = true;
  for (size_t i = 0; i < n; ++i) {
    ok &= b[i] == pattern(seed, i);
    g_sum = g_sum * 1099511628211ULL + b[i];
  }
  check(ok, what);
}

bool aligned(const void* p, size_t a) {
  return reinterpret_cast<uintptr_t>(p) % a == 0;
}

// ---- APIs that only glibc provides ----
// An allocator preloaded in place of glibc's (jemalloc, tcmalloc, a placer) often lacks pvalloc or
// reallocarray; the program would then get glibc's version operating on the other allocator's
// blocks and crash. Such an API is replaced by the portable call with the same effect (same
// checksum, counted under the call actually made), with a note on stderr. valgrind 3.19 aborts on
// pvalloc, so that one is replaced under valgrind too. --skip forces the replacement.
enum class Api { kReallocarray, kAlignedAlloc, kMemalign, kValloc, kPvalloc, kCount };
constexpr const char* kApiNames[] = {"reallocarray", "aligned_alloc", "memalign", "valloc",
                                     "pvalloc"};
bool g_replace[static_cast<int>(Api::kCount)] = {};

const char* object_of(const char* symbol) {
  Dl_info info;
  void* addr = dlsym(RTLD_DEFAULT, symbol);
  if (addr == nullptr || dladdr(addr, &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

void decide_replacements(const bool* forced) {
  std::string_view malloc_from = object_of("malloc");
  // valgrind redirects malloc inside the code, so dlsym still finds glibc; its preload shows.
  const char* preload = std::getenv("LD_PRELOAD");
  bool under_valgrind = preload != nullptr && std::strstr(preload, "vgpreload") != nullptr;
  for (int a = 0; a < static_cast<int>(Api::kCount); ++a) {
    std::string_view from = object_of(kApiNames[a]);
    const char* why = nullptr;
    if (forced[a]) {
      why = "--skip";
    } else if (from != malloc_from) {
      why = "malloc is provided by another library";
    } else if (static_cast<Api>(a) == Api::kPvalloc && under_valgrind) {
      why = "valgrind aborts on pvalloc";
    }
    if (why == nullptr) continue;
    g_replace[a] = true;
    std::fprintf(stderr, "%s: note: %s replaced by %s (%s)\n", kProg, kApiNames[a],
                 static_cast<Api>(a) == Api::kReallocarray ? "realloc" : "posix_memalign", why);
  }
}

void* call_reallocarray(void* p, size_t n, size_t size) {
  if (!g_replace[static_cast<int>(Api::kReallocarray)]) {
    p = reallocarray(p, n, size);
    count(k::kReallocarray);
    return p;
  }
  p = std::realloc(p, n * size);  // no overflow: callers pass small constants
  count(k::kRealloc);
  return p;
}

// aligned_alloc, memalign, valloc or pvalloc; `align` is the page size for the last two.
void* call_aligned(Api api, size_t align, size_t size) {
  if (g_replace[static_cast<int>(api)]) {
    if (api == Api::kPvalloc) size = (size + align - 1) / align * align;
    void* p = nullptr;
    int rc = posix_memalign(&p, align, size);
    count(k::kPosixMemalign);
    return rc == 0 ? p : nullptr;
  }
  switch (api) {
    case Api::kAlignedAlloc:
      count(k::kAlignedAlloc);
      return std::aligned_alloc(align, size);
    case Api::kMemalign:
      count(k::kMemalign);
      return memalign(align, size);
    case Api::kValloc:
      count(k::kValloc);
      return valloc(size);
    case Api::kPvalloc:
      count(k::kPvalloc);
      return pvalloc(size);
    default:
      return nullptr;
  }
}

void c_apis() {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));

  void* p = std::malloc(100);
  count(k::kMalloc);
  check(p != nullptr && aligned(p, alignof(std::max_align_t)), "malloc alignment");
  fill(p, 100, 1);
  verify(p, 100, 1, "malloc contents");
  std::free(p);
  count(k::kFree);

  auto* z = static_cast<uint32_t*>(std::calloc(1000, sizeof(uint32_t)));
  count(k::kCalloc);
  check(z != nullptr, "calloc");
  escape(z);
  bool zero = true;
  for (int i = 0; i < 1000; ++i) zero &= z[i] == 0;
  check(zero, "calloc zeroed");
  std::free(z);
  count(k::kFree);

  // realloc: NULL (acts as malloc), grow across the mmap threshold, shrink.
  p = std::realloc(nullptr, 64);
  count(k::kRealloc);
  check(p != nullptr, "realloc(NULL, 64)");
  fill(p, 64, 2);
  p = std::realloc(p, 1000);
  count(k::kRealloc);
  check(p != nullptr, "realloc grow small");
  verify(p, 64, 2, "realloc grow small contents");
  fill(p, 1000, 3);
  p = std::realloc(p, 300000);  // above the default 128 KiB mmap threshold
  count(k::kRealloc);
  check(p != nullptr, "realloc grow large");
  verify(p, 1000, 3, "realloc grow large contents");
  fill(p, 300000, 4);
  p = std::realloc(p, 48);
  count(k::kRealloc);
  check(p != nullptr, "realloc shrink");
  verify(p, 48, 4, "realloc shrink contents");

  // reallocarray grows the same block: 48 B -> 100 x 16 B.
  p = call_reallocarray(p, 100, 16);
  check(p != nullptr, "reallocarray");
  verify(p, 48, 4, "reallocarray contents");
  fill(p, 1600, 5);
  verify(p, 1600, 5, "reallocarray fill");
  std::free(p);
  count(k::kFree);

  for (size_t a : {size_t{64}, size_t{4096}}) {
    void* q = nullptr;
    int rc = posix_memalign(&q, a, 1000);
    count(k::kPosixMemalign);
    check(rc == 0 && q != nullptr && aligned(q, a), "posix_memalign alignment");
    fill(q, 1000, a);
    verify(q, 1000, a, "posix_memalign contents");
    std::free(q);
    count(k::kFree);
  }

  p = call_aligned(Api::kAlignedAlloc, 256, 1024);  // size: a multiple of the alignment (C11)
  check(p != nullptr && aligned(p, 256), "aligned_alloc alignment");
  fill(p, 1024, 6);
  verify(p, 1024, 6, "aligned_alloc contents");
  std::free(p);
  count(k::kFree);

  p = call_aligned(Api::kMemalign, 128, 500);
  check(p != nullptr && aligned(p, 128), "memalign alignment");
  fill(p, 500, 7);
  verify(p, 500, 7, "memalign contents");
  std::free(p);
  count(k::kFree);

  p = call_aligned(Api::kValloc, page, 5000);
  check(p != nullptr && aligned(p, page), "valloc alignment");
  fill(p, 5000, 8);
  verify(p, 5000, 8, "valloc contents");
  std::free(p);
  count(k::kFree);

  p = call_aligned(Api::kPvalloc, page, 5000);  // rounds up to whole pages: all are usable
  size_t rounded = (5000 + page - 1) / page * page;
  check(p != nullptr && aligned(p, page), "pvalloc alignment");
  fill(p, rounded, 9);
  verify(p, rounded, 9, "pvalloc contents");
  std::free(p);
  count(k::kFree);
}

struct Obj {
  uint64_t a, b;
};
struct alignas(128) AlignedObj {
  uint64_t v[4];
};

void cxx_apis() {
  void* p = ::operator new(100);
  count(k::kNew);
  fill(p, 100, 10);
  verify(p, 100, 10, "operator new contents");
  ::operator delete(p);
  count(k::kDelete);

  p = ::operator new[](200);
  count(k::kNewArray);
  fill(p, 200, 11);
  verify(p, 200, 11, "operator new[] contents");
  ::operator delete[](p);
  count(k::kDeleteArray);

  p = ::operator new(300);
  count(k::kNew);
  fill(p, 300, 12);
  verify(p, 300, 12, "operator new (sized delete) contents");
  ::operator delete(p, 300);
  count(k::kDeleteSized);

  p = ::operator new[](400);
  count(k::kNewArray);
  fill(p, 400, 13);
  verify(p, 400, 13, "operator new[] (sized delete[]) contents");
  ::operator delete[](p, 400);
  count(k::kDeleteSized);

  p = ::operator new (512, std::align_val_t{256});
  count(k::kNewAligned);
  check(aligned(p, 256), "aligned operator new alignment");
  fill(p, 512, 14);
  verify(p, 512, 14, "aligned operator new contents");
  ::operator delete (p, std::align_val_t{256});
  count(k::kDeleteAligned);

  p = ::operator new[](1000, std::align_val_t{128});
  count(k::kNewAligned);
  check(aligned(p, 128), "aligned operator new[] alignment");
  fill(p, 1000, 15);
  verify(p, 1000, 15, "aligned operator new[] contents");
  ::operator delete[](p, 1000, std::align_val_t{128});
  count(k::kDeleteAligned);

  p = ::operator new(50, std::nothrow);
  count(k::kNewNothrow);
  check(p != nullptr, "nothrow operator new");
  fill(p, 50, 16);
  verify(p, 50, 16, "nothrow operator new contents");
  ::operator delete(p);
  count(k::kDelete);

  p = ::operator new[](60, std::nothrow);
  count(k::kNewNothrow);
  check(p != nullptr, "nothrow operator new[]");
  fill(p, 60, 17);
  verify(p, 60, 17, "nothrow operator new[] contents");
  ::operator delete[](p);
  count(k::kDeleteArray);

  // New-expressions: operator new(size_t) + sized operator delete(void*, size_t).
  Obj* o = new Obj{21, 22};
  count(k::kNew);
  escape(o);
  check(o->a + o->b == 43, "new-expression contents");
  g_sum += o->a * 3 + o->b;
  delete o;
  count(k::kDeleteSized);

  // Over-aligned type: operator new(size_t, align_val_t) + operator delete(void*, size_t,
  // align_val_t).
  auto* ao = new AlignedObj{{1, 2, 3, 4}};
  count(k::kNewAligned);
  escape(ao);
  check(aligned(ao, 128) && ao->v[3] == 4, "aligned new-expression");
  g_sum += ao->v[0] + ao->v[3];
  delete ao;
  count(k::kDeleteAligned);
}

void mmap_apis() {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));

  // 16 pages; unmap pages 6..9 first (splits the mapping), then the two remaining pieces.
  size_t len = 16 * page;
  void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  count(k::kMmap);
  check(m != MAP_FAILED && aligned(m, page), "mmap");
  if (m == MAP_FAILED) return;
  auto* b = static_cast<char*>(m);
  fill(b, len, 20);
  check(munmap(b + 6 * page, 4 * page) == 0, "partial munmap");
  count(k::kMunmap);
  verify(b, 6 * page, 20, "mmap head after partial munmap");
  check(b[10 * page] == static_cast<char>(pattern(20, 10 * page)),
        "mmap tail after partial munmap");
  check(munmap(b, 6 * page) == 0, "munmap head");
  count(k::kMunmap);
  check(munmap(b + 10 * page, 6 * page) == 0, "munmap tail");
  count(k::kMunmap);

  // 4 pages grown to 64 (may move), then shrunk in place to 32, then unmapped.
  void* r = mmap(nullptr, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  count(k::kMmap);
  check(r != MAP_FAILED, "mmap for mremap");
  if (r == MAP_FAILED) return;
  fill(r, 4 * page, 21);
  void* g = mremap(r, 4 * page, 64 * page, MREMAP_MAYMOVE);
  count(k::kMremap);
  check(g != MAP_FAILED, "mremap grow");
  if (g == MAP_FAILED) return;
  verify(g, 4 * page, 21, "mremap grow contents");
  auto* gb = static_cast<char*>(g);
  for (size_t i = 4 * page; i < 64 * page; i += page) gb[i] = 1;  // new pages are usable
  void* s = mremap(g, 64 * page, 32 * page, 0);
  count(k::kMremap);
  check(s == g, "mremap shrink in place");
  verify(s, 4 * page, 21, "mremap shrink contents");
  check(munmap(s, 32 * page) == 0, "munmap after mremap");
  count(k::kMunmap);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t rounds = 1;
  bool forced[static_cast<int>(Api::kCount)] = {};
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: %s [--rounds N] [--skip API,...]\n"
          "Calls every allocation API (malloc family, C++ operators, mmap/munmap/mremap), checks\n"
          "alignment and contents, exits 1 on any failure.\n"
          "  --rounds N  repeat the whole sequence N times, 1..1000000 (default 1)\n"
          "  --skip L    replace these glibc-only APIs by realloc/posix_memalign (same output):\n"
          "              reallocarray,aligned_alloc,memalign,valloc,pvalloc. Done automatically\n"
          "              for an API not provided by the allocator that provides malloc, and for\n"
          "              pvalloc under valgrind (which aborts on it)\n"
          "Env TIERSCOPE_EXAMPLE_COUNTS=1 prints this program's own allocation calls on stderr.\n",
          kProg);
      return 0;
    }
    if (ts_example::parse_u64_opt(kProg, argc, argv, &i, "--rounds", 1, 1000000, &rounds)) continue;
    if (a == "--skip" || a.starts_with("--skip=")) {
      if (a == "--skip" && i + 1 >= argc)
        ts_example::usage_error(kProg, "missing value for", argv[i]);
      std::string_view list = a == "--skip" ? std::string_view(argv[++i]) : a.substr(7);
      while (!list.empty()) {
        std::string_view name = list.substr(0, list.find(','));
        list.remove_prefix(std::min(list.size(), name.size() + 1));
        int found = -1;
        for (int api = 0; api < static_cast<int>(Api::kCount); ++api) {
          if (name == kApiNames[api]) found = api;
        }
        if (found < 0)
          ts_example::usage_error(kProg, "--skip: unknown API", std::string(name).c_str());
        forced[found] = true;
      }
      continue;
    }
    ts_example::usage_error(kProg, "unknown argument", argv[i]);
  }
  decide_replacements(forced);
  for (uint64_t r = 0; r < rounds; ++r) {
    c_apis();
    cxx_apis();
    mmap_apis();
  }
  if (g_failed) {
    std::printf("allocapi: FAILED checksum=0x%016" PRIx64 "\n", g_sum);
    return 1;
  }
  std::printf("allocapi: ok checksum=0x%016" PRIx64 " rounds=%" PRIu64 "\n", g_sum, rounds);
  std::fflush(stdout);
  ts_example::print_counts(kProg);
  return 0;
}
