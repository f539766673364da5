// ts-example-ingest: a service that loads cold reference data at start-up and grows its hot
// working set afterwards, the case where the kernel's first-touch placement goes wrong: the cold
// data is touched first, so it takes the fast tier, and the hot data that comes later does not fit.
//
//   site     function               class  what
//   journal  ingest_alloc_journal   cold   24 MiB, written once at start, one record per 4096 ops
//   archive  ingest_alloc_archive   cold   8 x 4 MiB, written once at start, never read again
//   index    ingest_grow_index      hot    open-addressing table, grown by realloc (doubling)
//   records  ingest_alloc_record    hot    32..256 B records, read by every lookup
//   blobs    ingest_alloc_blob      warm   1..8 KiB attachments of every 32nd record, read rarely
//
// --seed changes which keys are inserted and looked up and every record's size: two seeds make two
// different runs of the same program, which is what a held-out evaluation needs. Output depends
// only on the flags.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "example_common.h"

using ts_example::count;
using ts_example::mix64;

namespace {

constexpr const char* kProg = "ts-example-ingest";
constexpr size_t kJournalBytes = 24u << 20;
constexpr size_t kArchiveChunks = 8;
constexpr size_t kArchiveChunkBytes = 4u << 20;
constexpr uint64_t kBlobEvery = 32;       // one blob per 32 records
constexpr uint64_t kJournalEvery = 4096;  // one journal record per 4096 lookups
constexpr uint64_t kLookupsPerInsert = 8;

[[noreturn]] void die_oom(size_t n) {
  std::fprintf(stderr, "%s: out of memory allocating %zu bytes\n", kProg, n);
  std::exit(1);
}

void* checked(void* p, size_t n) {
  if (p == nullptr) die_oom(n);
  return p;
}

}  // namespace

// ---- Allocation sites: one non-inlined function per temperature class. ----

extern "C" __attribute__((noinline)) void* ingest_alloc_journal(size_t bytes) {
  void* p = checked(std::malloc(bytes), bytes);
  count(ts_example::kMalloc);
  std::memset(p, 0, bytes);
  return p;
}

extern "C" __attribute__((noinline)) void* ingest_alloc_archive(size_t bytes) {
  void* p = checked(std::malloc(bytes), bytes);
  count(ts_example::kMalloc);
  return p;
}

extern "C" __attribute__((noinline)) void* ingest_grow_index(void* old, size_t bytes) {
  void* p = checked(std::realloc(old, bytes), bytes);
  count(old ? ts_example::kRealloc : ts_example::kMalloc);
  return p;
}

extern "C" __attribute__((noinline)) void* ingest_alloc_record(size_t bytes) {
  void* p = checked(std::malloc(bytes), bytes);
  count(ts_example::kMalloc);
  return p;
}

extern "C" __attribute__((noinline)) void* ingest_alloc_blob(size_t bytes) {
  void* p = checked(std::malloc(bytes), bytes);
  count(ts_example::kMalloc);
  return p;
}

namespace {

struct Record {
  uint64_t key;
  uint32_t size;
  uint32_t blob_size;
  uint64_t* blob;
  uint64_t payload[];
};

struct Store {
  uint64_t seed;
  Record** slots_ = nullptr;  // open addressing; null = empty
  uint64_t mask = 0;
  uint64_t size = 0;  // records stored
  uint64_t* journal = nullptr;
  size_t journal_pos = 0;
  uint64_t* archive[kArchiveChunks] = {};
  uint64_t sum = 0;

  explicit Store(uint64_t s) : seed(s) {}

  uint64_t key_of(uint64_t i) const { return mix64(seed * 0x9e3779b97f4a7c15ULL + i) | 1; }

  void load_reference_data() {
    journal = static_cast<uint64_t*>(ingest_alloc_journal(kJournalBytes));
    for (size_t c = 0; c < kArchiveChunks; ++c) {
      archive[c] = static_cast<uint64_t*>(ingest_alloc_archive(kArchiveChunkBytes));
      for (size_t w = 0; w < kArchiveChunkBytes / 8; w += 8) archive[c][w] = mix64(c << 40 | w);
    }
  }

  void grow() {
    const uint64_t slots = mask ? (mask + 1) * 2 : 1024;
    Record** old = slots_copy();
    const uint64_t old_slots = mask ? mask + 1 : 0;
    slots_ = static_cast<Record**>(ingest_grow_index(slots_, slots * sizeof(Record*)));
    mask = slots - 1;
    std::memset(slots_, 0, slots * sizeof(Record*));
    for (uint64_t i = 0; i < old_slots; ++i) {
      if (old[i]) place(old[i]);
    }
    release(old);
  }

  // The old table's entries, copied aside: realloc keeps them only up to the old size, and they
  // are rehashed into the grown table.
  Record** slots_copy() {
    const uint64_t n = mask ? mask + 1 : 0;
    auto** copy = static_cast<Record**>(checked(std::malloc((n + 1) * sizeof(Record*)), n));
    count(ts_example::kMalloc);
    if (n) std::memcpy(copy, slots_, n * sizeof(Record*));
    return copy;
  }

  void place(Record* r) {
    uint64_t h = mix64(r->key) & mask;
    while (slots_[h]) h = (h + 1) & mask;
    slots_[h] = r;
  }

  void insert(uint64_t i) {
    if ((size + 1) * 2 > mask + 1) grow();
    const uint64_t key = key_of(i);
    const size_t bytes = sizeof(Record) + 8 * (2 + mix64(key) % 29);  // 40..264 B
    auto* r = static_cast<Record*>(ingest_alloc_record(bytes));
    r->key = key;
    r->size = static_cast<uint32_t>(bytes);
    r->blob = nullptr;
    r->blob_size = 0;
    for (size_t w = 0; w < (bytes - sizeof(Record)) / 8; ++w) r->payload[w] = mix64(key + w);
    if (i % kBlobEvery == 0) {
      r->blob_size = static_cast<uint32_t>(1024 << (mix64(key ^ 0xb10b) % 4));  // 1..8 KiB
      r->blob = static_cast<uint64_t*>(ingest_alloc_blob(r->blob_size));
      for (size_t w = 0; w < r->blob_size / 8; ++w) r->blob[w] = mix64(key ^ w);
    }
    place(r);
    ++size;
  }

  const Record* find(uint64_t key) const {
    for (uint64_t h = mix64(key) & mask;; h = (h + 1) & mask) {
      const Record* r = slots_[h];
      if (r == nullptr || r->key == key) return r;
    }
  }

  void lookup(uint64_t op) {
    const uint64_t i = mix64(seed ^ (op * 0x2545f4914f6cdd1dULL)) % size;
    const Record* r = find(key_of(i));
    if (r == nullptr) return;
    uint64_t s = r->key;
    const size_t words = (r->size - sizeof(Record)) / 8;
    for (size_t w = 0; w < words; w += 4) s += r->payload[w];
    if (r->blob && op % 64 == 0) s += r->blob[(op / 64) % (r->blob_size / 8)];
    sum += s;
    if (op % kJournalEvery == 0) {  // append one 64 B journal record
      for (size_t w = 0; w < 8; ++w) journal[journal_pos + w] = s + w;
      journal_pos = (journal_pos + 8) % (kJournalBytes / 8);
    }
  }

  static void release(void* p) {
    std::free(p);
    count(ts_example::kFree);
  }

  void release_all() {
    for (uint64_t h = 0; h <= mask; ++h) {
      if (Record* r = slots_[h]) {
        if (r->blob) release(r->blob);
        release(r);
      }
    }
    release(slots_);
    release(journal);
    for (auto* c : archive) release(c);
  }
};

void print_help() {
  std::printf(
      "usage: %s [--records N] [--ops N] [--seed N]\n"
      "A store that loads cold reference data first (journal, archive: 56 MiB) and then ingests\n"
      "its hot data (index, records) and warm blobs while serving lookups.\n"
      "  --records N  records ingested (default 200000: ~30 MiB records, ~28 MiB blobs)\n"
      "  --ops N      lookups after ingest (default 12000000); 8 more per record during it\n"
      "  --seed N     keys, sizes and lookups (default 1): another seed is another run\n",
      kProg);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t records = 200000, ops = 12000000, seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      print_help();
      return 0;
    }
    if (ts_example::parse_u64_opt(kProg, argc, argv, &i, "--records", 1, uint64_t{1} << 28,
                                  &records) ||
        ts_example::parse_u64_opt(kProg, argc, argv, &i, "--ops", 0, uint64_t{1} << 40, &ops) ||
        ts_example::parse_u64_opt(kProg, argc, argv, &i, "--seed", 0, UINT64_MAX, &seed)) {
      continue;
    }
    ts_example::usage_error(kProg, "unknown argument", argv[i]);
  }
  Store store(seed);
  store.load_reference_data();
  uint64_t op = 0;
  for (uint64_t i = 0; i < records; ++i) {
    store.insert(i);
    for (uint64_t k = 0; k < kLookupsPerInsert; ++k) store.lookup(op++);
  }
  for (uint64_t k = 0; k < ops; ++k) store.lookup(op++);
  std::printf("ingest: records=%" PRIu64 " lookups=%" PRIu64 " seed=%" PRIu64
              " checksum=0x%016" PRIx64 "\n",
              records, op, seed, store.sum);
  std::fflush(stdout);
  store.release_all();
  ts_example::print_counts(kProg);
  return 0;
}
