// ts-placer-quota: sites with their own frames for the quota and realloc tests
// (placer_integration_test.cc). Links the placer (ts_tier_of); run it under a plan that names
// its functions' sites.
//   quota N: two batches of N 64 KiB blocks from quota_site (the second after the first is
//            freed), each line the tier of every block: "batch1 0 0 1 1 ...".
//   realloc: blocks from slow_site grown by realloc from planned_realloc and unplanned_realloc.
//   split N: up to N 16 MiB blocks from big_site until one is not on the first tier whole; per
//            block its tier and the memory policy of its first and last page; that block grown
//            by realloc (content kept?); all freed, then one more block.
#include <numaif.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tierscope/placer.h"

extern "C" __attribute__((noinline, noipa)) void* quota_site(size_t n) {
  return std::malloc(n);
}
extern "C" __attribute__((noinline, noipa)) void* slow_site(size_t n) {
  return std::malloc(n);
}
extern "C" __attribute__((noinline, noipa)) void* big_site(size_t n) {
  return std::malloc(n);
}
extern "C" __attribute__((noinline, noipa)) void* planned_realloc(void* p, size_t n) {
  return std::realloc(p, n);
}
extern "C" __attribute__((noinline, noipa)) void* unplanned_realloc(void* p, size_t n) {
  return std::realloc(p, n);
}

namespace {

constexpr size_t kBlock = 64 << 10;

void Batch(const char* name, int n) {
  std::vector<void*> blocks;
  std::string line = name;
  for (int i = 0; i < n; ++i) {
    void* p = quota_site(kBlock);
    std::memset(p, i, kBlock);
    blocks.push_back(p);
    line += " " + std::to_string(ts_tier_of(p));
  }
  std::printf("%s\n", line.c_str());
  for (void* p : blocks) std::free(p);
}

// The first `n` bytes of p are `byte`.
bool Holds(const void* p, size_t n, unsigned char byte) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != byte) return false;
  }
  return true;
}

void Report(const char* what, void* p, size_t kept, unsigned char byte) {
  std::printf("%s tier=%d content=%s\n", what, ts_tier_of(p), Holds(p, kept, byte) ? "ok" : "bad");
}

int PolicyOf(const void* p) {
  int mode = -1;
  unsigned long mask[16] = {};
  return get_mempolicy(&mode, mask, 1024, const_cast<void*>(p), MPOL_F_ADDR) == 0 ? mode : -1;
}

constexpr size_t kBig = size_t{16} << 20;

void ReportBig(const char* what, int i, void* p) {
  const char* b = static_cast<const char*>(p);
  // "first": a byte one page in (a large block may start inside its first page, which the
  // split leaves to the block's own tier: only whole pages move).
  std::printf("%s %d tier=%d first=%d last=%d\n", what, i, ts_tier_of(p), PolicyOf(b + 4096),
              PolicyOf(b + kBig - 1));
}

void Split(int n) {
  std::vector<void*> blocks;
  for (int i = 0; i < n; ++i) {
    void* p = big_site(kBig);
    std::memset(p, i + 1, kBig);
    blocks.push_back(p);
    ReportBig("big", i, p);
    if (ts_tier_of(p) != 0) break;
  }
  void*& last = blocks.back();
  last = unplanned_realloc(last, kBig + (4 << 20));
  const unsigned char byte = static_cast<unsigned char>(blocks.size());
  std::printf("split_realloc content=%s\n", Holds(last, kBig, byte) ? "ok" : "bad");
  for (void* p : blocks) std::free(p);
  void* again = big_site(kBig);
  std::memset(again, 1, kBig);
  ReportBig("again", 0, again);
  std::free(again);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "quota" && argc > 2) {
    const int n = std::atoi(argv[2]);
    Batch("batch1", n);
    Batch("batch2", n);
    return 0;
  }
  if (mode == "split" && argc > 2) {
    Split(std::atoi(argv[2]));
    return 0;
  }
  if (mode == "realloc") {
    void* a = slow_site(1000);
    std::memset(a, 7, 1000);
    Report("slow_block", a, 1000, 7);
    void* grown = planned_realloc(a, 50000);  // the realloc's site is planned fast: moves
    Report("planned_realloc", grown, 1000, 7);
    void* kept = unplanned_realloc(grown, 100000);  // not planned: keeps its (fast) tier
    Report("unplanned_realloc_of_fast", kept, 1000, 7);
    void* b = slow_site(2000);
    std::memset(b, 9, 2000);
    void* b2 = unplanned_realloc(b, 80000);  // not planned: keeps its (slow) tier
    Report("unplanned_realloc_of_slow", b2, 2000, 9);
    void* b3 = planned_realloc(b2, 90000);
    Report("planned_realloc_of_slow", b3, 2000, 9);
    std::free(kept);
    std::free(b3);
    return 0;
  }
  std::fprintf(stderr, "usage: ts-placer-quota quota N | realloc\n");
  return 2;
}
