// ts-example-stress: multi-threaded malloc/free stress, the recorder's overhead benchmark.
//
// Per op each thread mallocs 16..4096 B (splitmix64 seeded by thread index), writes one word in
// every cache line, then either keeps the object in a ring (freeing the one it replaces, ~1/2 of
// ops), hands it to the next thread through a mutex-protected intrusive queue (1/256 of ops; that
// thread frees it), or frees it at once. With --depth N each malloc happens N frames deep in the
// recursive non-inlined function stress_alloc.
//
// The checksum sums a hash of each object's contents, read back by whichever thread frees it.
// The set of objects is fixed by the seeds, and the sum is order-independent, so the checksum
// does not depend on thread interleaving. malloc and free counts are exactly threads * ops each.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>

#include "example_common.h"

namespace {

constexpr const char* kProg = "ts-example-stress";
constexpr int kMaxThreads = 256;
constexpr uint64_t kDrainEvery = 64;  // ops between two drains of a thread's inbox

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "%s: %s\n", kProg, what);
  std::exit(1);
}

}  // namespace

// The allocation site; recursion gives deep, distinct-depth stacks for benchmarks.
extern "C" __attribute__((noinline)) void* stress_alloc(uint64_t depth, size_t bytes) {
  void* p = depth <= 1 ? std::malloc(bytes) : stress_alloc(depth - 1, bytes);
  ts_example::escape(p);  // work after the call: no tail call, every level keeps its frame
  return p;
}

namespace {

// Object layout: word 0 = tag (the size derives from it); bytes 8..15 = queue link while handed
// over; one more word written at the start of every further cache line (clamped to the end).
size_t size_of_tag(uint64_t tag) {
  return 16 + tag % 4081;
}  // 16..4096

size_t line_offset(size_t size, size_t line) {
  return std::min(line * 64, size - 8);
}

void fill(char* p, uint64_t tag) {
  size_t size = size_of_tag(tag);
  std::memcpy(p, &tag, 8);
  for (size_t line = 1; line * 64 < size; ++line) {
    uint64_t w = tag + line;
    std::memcpy(p + line_offset(size, line), &w, 8);
  }
}

// Reads back the first and last words written, checks them, returns the object's hash.
uint64_t verify(const char* p) {
  uint64_t tag, last;
  std::memcpy(&tag, p, 8);
  size_t size = size_of_tag(tag);
  size_t lines = (size + 63) / 64;
  std::memcpy(&last, p + line_offset(size, lines - 1), 8);
  if (last != tag + (lines - 1)) die("object contents corrupted");
  return ts_example::mix64(tag) ^ last;
}

// Objects handed over by other threads, linked through bytes 8..15; never allocates.
struct alignas(64) Inbox {
  std::mutex mu;
  char* head = nullptr;

  void push(char* p) {
    std::lock_guard lock(mu);
    std::memcpy(p + 8, &head, sizeof head);
    head = p;
  }
  char* take_all() {
    std::lock_guard lock(mu);
    char* h = head;
    head = nullptr;
    return h;
  }
};

struct alignas(64) ThreadStats {
  uint64_t sum = 0, mallocs = 0, frees = 0;

  void release(char* p) {
    sum += verify(p);
    std::free(p);
    ++frees;
  }
  void drain(Inbox* inbox) {
    for (char* p = inbox->take_all(); p != nullptr;) {
      char* next;
      std::memcpy(&next, p + 8, sizeof next);
      release(p);
      p = next;
    }
  }
};

struct Config {
  uint64_t threads = 2, ops = 5000000, depth = 1, ring = 1024;
};

Inbox g_inbox[kMaxThreads];

void worker(const Config& cfg, int t, ThreadStats* out, char** ring) {
  ThreadStats st;
  ts_example::SplitMix64 rng(ts_example::mix64(static_cast<uint64_t>(t) + 1));
  Inbox* next_inbox = &g_inbox[(t + 1) % cfg.threads];
  uint64_t ring_pos = 0;
  for (uint64_t i = 0; i < cfg.ops; ++i) {
    uint64_t tag = rng.next();
    uint64_t decide = rng.next();
    auto* p = static_cast<char*>(stress_alloc(cfg.depth, size_of_tag(tag)));
    if (p == nullptr) die("out of memory");
    ++st.mallocs;
    fill(p, tag);
    if (decide & 1) {  // keep: replace the oldest ring entry
      char*& slot = ring[ring_pos];
      if (slot != nullptr) st.release(slot);
      slot = p;
      ring_pos = ring_pos + 1 == cfg.ring ? 0 : ring_pos + 1;
    } else if ((decide >> 1) % 128 == 0) {
      // Hand over: another thread frees it. Rare on purpose: glibc frees of another arena's
      // blocks take that arena's lock, and at 1/32 of ops the benchmark measured mostly that.
      next_inbox->push(p);
    } else {
      st.release(p);
    }
    if (i % kDrainEvery == kDrainEvery - 1) st.drain(&g_inbox[t]);
  }
  for (uint64_t r = 0; r < cfg.ring; ++r) {
    if (ring[r] != nullptr) st.release(ring[r]);
  }
  st.drain(&g_inbox[t]);
  *out = st;
}

void print_help() {
  std::printf(
      "usage: %s [--threads N] [--ops N] [--depth N] [--ring N]\n"
      "Multi-threaded malloc/free stress: 16..4096 B objects, every cache line written.\n"
      "  --threads N  threads, 1..%d (default 2)\n"
      "  --ops N      mallocs per thread (default 5000000)\n"
      "  --depth N    each malloc happens N frames deep in stress_alloc(), 1..10000 (default 1)\n"
      "  --ring N     objects kept alive per thread (default 1024)\n"
      "Env TIERSCOPE_EXAMPLE_COUNTS=1 prints this program's own allocation calls on stderr.\n",
      kProg, kMaxThreads);
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      print_help();
      return 0;
    }
    using ts_example::parse_u64_opt;
    if (parse_u64_opt(kProg, argc, argv, &i, "--threads", 1, kMaxThreads, &cfg.threads) ||
        parse_u64_opt(kProg, argc, argv, &i, "--ops", 0, uint64_t{1} << 40, &cfg.ops) ||
        parse_u64_opt(kProg, argc, argv, &i, "--depth", 1, 10000, &cfg.depth) ||
        parse_u64_opt(kProg, argc, argv, &i, "--ring", 1, uint64_t{1} << 24, &cfg.ring)) {
      continue;
    }
    ts_example::usage_error(kProg, "unknown argument", argv[i]);
  }

  int n = static_cast<int>(cfg.threads);
  // Rings: one calloc for all threads (counted); stats live on the stack.
  auto** rings = static_cast<char**>(std::calloc(cfg.threads * cfg.ring, sizeof(char*)));
  if (rings == nullptr) die("out of memory");
  ts_example::count(ts_example::kCalloc);
  ThreadStats stats[kMaxThreads];
  std::thread pool[kMaxThreads];
  for (int t = 0; t < n; ++t) {
    pool[t] = std::thread(worker, std::cref(cfg), t, &stats[t], rings + t * cfg.ring);
  }
  for (int t = 0; t < n; ++t) pool[t].join();

  // Objects handed over after their receiver finished are freed here, on the main thread.
  ThreadStats late;
  for (int t = 0; t < n; ++t) late.drain(&g_inbox[t]);

  uint64_t sum = late.sum, mallocs = 0, frees = late.frees;
  for (int t = 0; t < n; ++t) {
    sum += stats[t].sum;
    mallocs += stats[t].mallocs;
    frees += stats[t].frees;
  }
  std::free(rings);
  ts_example::count(ts_example::kFree);
  if (mallocs != frees) die("malloc/free mismatch");
  ts_example::count(ts_example::kMalloc, mallocs);
  ts_example::count(ts_example::kFree, frees);

  std::printf("stress: threads=%" PRIu64 " ops=%" PRIu64 " depth=%" PRIu64 " checksum=0x%016" PRIx64
              "\n",
              cfg.threads, cfg.ops, cfg.depth, sum);
  std::fflush(stdout);
  ts_example::print_counts(kProg);
  return 0;
}
