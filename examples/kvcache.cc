// ts-example-kvcache: a key-value cache whose allocation sites have known, very different
// temperatures. It is the ground-truth workload for the recorder, analyzer and placer:
//
//   site     function                class  what
//   index    kv_alloc_index          hot    open-addressing table, probed 16x per op
//   values   kv_alloc_value          warm   64..4096 B value blocks, one line read per op
//   log      kv_alloc_log            cold   16 MiB log, one 64 B record appended per 1024 ops
//   archive  kv_alloc_archive_chunk  cold   4 x 8 MiB, page headers written once, one read per
//   epoch
//
// Every site function is extern "C" (so its symbol is exactly the name above) and noinline, and
// does work after the allocation call so the compiler cannot turn it into a tail call: each site
// stays a distinct frame on the allocation stack.
//
// Determinism: ops are grouped in epochs. Within an epoch workers only read; between epochs one
// thread mutates (replaces values, appends to the log, reads the archive). Each op's inputs come
// from its op number, and per-op results are summed, so stdout is identical for any --threads.
#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>

#include "example_common.h"

using ts_example::count;
using ts_example::mix64;

namespace {

constexpr const char* kProg = "ts-example-kvcache";
constexpr uint64_t kLookupsPerOp = 16;   // index probes per op; only the first hit reads a value
constexpr uint64_t kEpochOps = 16384;    // ops between two mutation phases
constexpr uint64_t kReplaceEvery = 64;   // one value freed + reallocated per 64 ops
constexpr uint64_t kLogEvery = 1024;     // one log record per 1024 ops
constexpr size_t kLogRecordWords = 8;    // 64 B per log record
constexpr size_t kLogBytes = 16u << 20;  // 16 MiB
constexpr size_t kArchiveChunks = 4;
constexpr size_t kArchiveChunkBytes = 8u << 20;  // 8 MiB each
constexpr int kMaxThreads = 64;

[[noreturn]] void die_oom(size_t n) {
  std::fprintf(stderr, "%s: out of memory allocating %zu bytes\n", kProg, n);
  std::exit(1);
}

}  // namespace

// ---- Allocation sites: one non-inlined function per temperature class. ----

extern "C" __attribute__((noinline)) void* kv_alloc_index(size_t bytes) {
  void* p = std::calloc(1, bytes);  // calloc: empty slots must read as key 0
  if (p == nullptr) die_oom(bytes);
  count(ts_example::kCalloc);
  return p;
}

extern "C" __attribute__((noinline)) void* kv_alloc_value(size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) die_oom(bytes);
  count(ts_example::kMalloc);
  return p;
}

extern "C" __attribute__((noinline)) void* kv_alloc_log(size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) die_oom(bytes);
  count(ts_example::kMalloc);
  return p;
}

extern "C" __attribute__((noinline)) void* kv_alloc_archive_chunk(size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) die_oom(bytes);
  count(ts_example::kMalloc);
  return p;
}

namespace {

void release(void* p) {
  std::free(p);
  count(ts_example::kFree);
}

// A value block: 16 B header, then payload words. Total size is a power of two in 64..4096.
struct Value {
  uint64_t id;
  uint32_t size;
  uint32_t gen;
  uint64_t payload[];
};

struct Slot {
  uint64_t key;  // id + 1; 0 means empty
  Value* value;
};

// Accesses (8-byte loads/stores by this program) per region: the designed temperature, measured.
struct Accesses {
  uint64_t index = 0, values = 0, log = 0, archive = 0;
};

size_t value_size(uint64_t id, uint32_t gen) {
  return size_t{64} << (mix64(id * 0x100000001b3ULL + gen) % 7);  // 64, 128, ..., 4096
}

struct Cache {
  uint64_t nkeys = 0;
  uint64_t mask = 0;  // slots - 1
  Slot* index = nullptr;
  char* log = nullptr;
  size_t log_pos = 0;
  uint64_t* archive[kArchiveChunks] = {};
  // Ground truth per site, updated only single-threaded (setup and mutation phases).
  uint64_t value_allocs = 0, value_bytes = 0, value_live_bytes = 0;
  Accesses serial;  // accesses made by setup and mutation phases
  uint64_t serial_sum = 0;

  size_t index_bytes() const { return (mask + 1) * sizeof(Slot); }

  Value* make_value(uint64_t id, uint32_t gen) {
    size_t size = value_size(id, gen);
    auto* v = static_cast<Value*>(kv_alloc_value(size));
    v->id = id;
    v->size = static_cast<uint32_t>(size);
    v->gen = gen;
    size_t words = size / 8 - 2;
    for (size_t i = 0; i < words; ++i) v->payload[i] = mix64(id ^ (uint64_t{gen} << 40) ^ i);
    serial.values += size / 8;
    ++value_allocs;
    value_bytes += size;
    value_live_bytes += size;
    return v;
  }

  // Returns the slot holding `id`, or the empty slot where it would go.
  Slot* find_slot(uint64_t id, uint64_t* loads) const {
    uint64_t h = mix64(id) & mask;
    for (;;) {
      Slot* s = &index[h];
      ++*loads;
      if (s->key == id + 1 || s->key == 0) return s;
      h = (h + 1) & mask;
    }
  }

  void build(uint64_t keys) {
    nkeys = keys;
    uint64_t slots = 1;
    while (slots < 2 * keys) slots <<= 1;  // load factor <= 0.5
    mask = slots - 1;
    index = static_cast<Slot*>(kv_alloc_index(slots * sizeof(Slot)));
    for (uint64_t id = 0; id < keys; ++id) {
      Slot* s = find_slot(id, &serial.index);
      s->key = id + 1;
      s->value = make_value(id, 0);
      serial.index += 2;
    }
    log = static_cast<char*>(kv_alloc_log(kLogBytes));
    for (size_t c = 0; c < kArchiveChunks; ++c) {
      archive[c] = static_cast<uint64_t*>(kv_alloc_archive_chunk(kArchiveChunkBytes));
      // Written once: a 64 B header per 4 KiB page (every page is touched, few bytes written).
      for (size_t page = 0; page < kArchiveChunkBytes / 4096; ++page) {
        for (size_t w = 0; w < 8; ++w) archive[c][page * 512 + w] = mix64(c << 32 | page << 3 | w);
      }
      serial.archive += kArchiveChunkBytes / 4096 * 8;
    }
  }

  // One op: probe 16 keys (half of the key space is absent), read one line of the first hit.
  uint64_t run_op(uint64_t op, Accesses* acc) const {
    uint64_t seed = mix64(op ^ 0x6b76636163686521ULL);
    const Value* first = nullptr;
    uint64_t hits = 0;
    for (uint64_t j = 0; j < kLookupsPerOp; ++j) {
      uint64_t id = mix64(seed + j) % (2 * nkeys);
      uint64_t h = mix64(id) & mask;
      for (;;) {
        const Slot& s = index[h];
        uint64_t k = s.key;
        ++acc->index;
        if (k == id + 1) {
          ++acc->index;
          hits |= uint64_t{1} << j;
          if (first == nullptr) first = s.value;
          break;
        }
        if (k == 0) break;
        h = (h + 1) & mask;
      }
    }
    uint64_t sum = hits * 0x9e3779b97f4a7c15ULL;
    if (first != nullptr) {
      const uint64_t* w = reinterpret_cast<const uint64_t*>(first);
      for (int i = 0; i < 8; ++i) sum += w[i] * (2 * i + 1);  // first 64 B of the block
      acc->values += 8;
    }
    return sum;
  }

  // Serial phase after ops [0, end): replace values, append to the log, read the archive.
  void mutate(uint64_t epoch, uint64_t begin, uint64_t end) {
    uint64_t replacements = end / kReplaceEvery - begin / kReplaceEvery;
    for (uint64_t r = 0; r < replacements; ++r) {
      uint64_t id = mix64(epoch * 0x10000 + r + 0x5eed) % nkeys;
      Slot* s = find_slot(id, &serial.index);
      Value* old = s->value;
      uint32_t gen = old->gen + 1;
      serial.values += 1;
      value_live_bytes -= old->size;
      release(old);  // freed first so the allocator can hand the address back out
      s->value = make_value(id, gen);
      serial.index += 1;
    }
    uint64_t records = end / kLogEvery - begin / kLogEvery;
    for (uint64_t r = 0; r < records; ++r) {
      if (log_pos + kLogRecordWords * 8 > kLogBytes) log_pos = 0;
      uint64_t* rec = reinterpret_cast<uint64_t*>(log + log_pos);
      for (size_t w = 0; w < kLogRecordWords; ++w) rec[w] = mix64(epoch * 131 + r * 8 + w);
      serial_sum += rec[0];
      log_pos += kLogRecordWords * 8;
      serial.log += kLogRecordWords;
    }
    // One page header of the archive per epoch.
    uint64_t pick = mix64(epoch ^ 0xa5c1);
    const uint64_t* chunk = archive[pick % kArchiveChunks];
    size_t page = (pick >> 8) % (kArchiveChunkBytes / 4096);
    for (size_t w = 0; w < 8; ++w) serial_sum += chunk[page * 512 + w];
    serial.archive += 8;
  }

  void destroy() {
    for (uint64_t h = 0; h <= mask; ++h) {
      if (index[h].key != 0) release(index[h].value);
    }
    release(index);
    release(log);
    for (auto* c : archive) release(c);
  }
};

// A reusable barrier whose last arriving thread runs a serial step. Hand-rolled rather than
// std::barrier so the runtime makes no hidden allocations on our behalf.
class PhaseBarrier {
 public:
  explicit PhaseBarrier(int n) : n_(n) {}
  template <typename F>
  void arrive_and_wait(F&& serial_step) {
    std::unique_lock lock(mu_);
    uint64_t gen = gen_;
    if (++arrived_ == n_) {
      serial_step();
      arrived_ = 0;
      ++gen_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return gen_ != gen; });
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_;
  int arrived_ = 0;
  uint64_t gen_ = 0;
};

struct alignas(64) WorkerResult {
  uint64_t sum = 0;
  uint64_t ops = 0;
  Accesses acc;
};

void worker(Cache* cache, PhaseBarrier* barrier, uint64_t total_ops, int t, int nthreads,
            WorkerResult* out) {
  WorkerResult r;
  for (uint64_t begin = 0, epoch = 0; begin < total_ops; begin += kEpochOps, ++epoch) {
    uint64_t end = std::min(total_ops, begin + kEpochOps);
    uint64_t lo = begin + (end - begin) * t / nthreads;
    uint64_t hi = begin + (end - begin) * (t + 1) / nthreads;
    for (uint64_t op = lo; op < hi; ++op) r.sum += cache->run_op(op, &r.acc);
    r.ops += hi - lo;
    barrier->arrive_and_wait([&] { cache->mutate(epoch, begin, end); });
  }
  *out = r;
}

void print_help() {
  std::printf(
      "usage: %s [--ops N] [--keys N] [--threads N] [--print-sites]\n"
      "Key-value cache with hot (index), warm (values) and cold (log, archive) allocation sites.\n"
      "  --ops N        total ops, each = 16 index probes + one value read (default 2500000)\n"
      "  --keys N       live keys/values; index has 2*N rounded up to a power of 2 slots\n"
      "                 (default 65536: 2 MiB index, ~76 MiB values)\n"
      "  --threads N    worker threads sharing the ops, 1..%d (default 1); output does not\n"
      "                 depend on N\n"
      "  --print-sites  also print one ground-truth line per allocation site:\n"
      "                 site <name> function=<fn> bytes=<bytes> class=hot|warm|cold "
      "allocs=<n> accesses=<8-byte accesses>\n"
      "Env TIERSCOPE_EXAMPLE_COUNTS=1 prints this program's own allocation calls on stderr.\n",
      kProg, kMaxThreads);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t ops = 2500000, keys = 65536, threads = 1;
  bool print_sites = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      print_help();
      return 0;
    }
    if (a == "--print-sites") {
      print_sites = true;
      continue;
    }
    if (ts_example::parse_u64_opt(kProg, argc, argv, &i, "--ops", 0, uint64_t{1} << 40, &ops) ||
        ts_example::parse_u64_opt(kProg, argc, argv, &i, "--keys", 16, uint64_t{1} << 26, &keys) ||
        ts_example::parse_u64_opt(kProg, argc, argv, &i, "--threads", 1, kMaxThreads, &threads)) {
      continue;
    }
    ts_example::usage_error(kProg, "unknown argument", argv[i]);
  }

  Cache cache;
  cache.build(keys);

  int n = static_cast<int>(threads);
  PhaseBarrier barrier(n);
  WorkerResult results[kMaxThreads];
  std::thread pool[kMaxThreads];  // default-constructed: no thread, no allocation
  for (int t = 1; t < n; ++t) {
    pool[t] = std::thread(worker, &cache, &barrier, ops, t, n, &results[t]);
  }
  worker(&cache, &barrier, ops, 0, n, &results[0]);
  for (int t = 1; t < n; ++t) pool[t].join();

  uint64_t sum = cache.serial_sum;
  Accesses acc = cache.serial;
  for (int t = 0; t < n; ++t) {
    if (ops >= static_cast<uint64_t>(n) * kEpochOps && results[t].ops == 0) {
      std::fprintf(stderr, "%s: thread %d did no work\n", kProg, t);
      return 1;
    }
    sum += results[t].sum;
    acc.index += results[t].acc.index;
    acc.values += results[t].acc.values;
  }

  size_t index_bytes = cache.index_bytes();
  size_t archive_bytes = kArchiveChunks * kArchiveChunkBytes;
  if (print_sites) {
    std::printf("site index function=kv_alloc_index bytes=%zu class=hot allocs=1 accesses=%" PRIu64
                "\n",
                index_bytes, acc.index);
    std::printf("site values function=kv_alloc_value bytes=%" PRIu64 " class=warm allocs=%" PRIu64
                " accesses=%" PRIu64 "\n",
                cache.value_bytes, cache.value_allocs, acc.values);
    std::printf("site log function=kv_alloc_log bytes=%zu class=cold allocs=1 accesses=%" PRIu64
                "\n",
                kLogBytes, acc.log);
    std::printf(
        "site archive function=kv_alloc_archive_chunk bytes=%zu class=cold allocs=%zu "
        "accesses=%" PRIu64 "\n",
        archive_bytes, kArchiveChunks, acc.archive);
  }
  std::printf("kvcache: ops=%" PRIu64 " checksum=0x%016" PRIx64
              " index_bytes=%zu values_bytes=%" PRIu64 " log_bytes=%zu archive_bytes=%zu\n",
              ops, sum, index_bytes, cache.value_live_bytes, kLogBytes, archive_bytes);
  std::fflush(stdout);

  cache.destroy();
  ts_example::print_counts(kProg);
  return 0;
}
