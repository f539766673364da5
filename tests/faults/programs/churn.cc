// Allocates and frees from many call sites in a few threads, then prints a checksum of what it
// computed: a program that makes a trace of a few MiB (for the full-disk and I/O-error cases).
// Usage: churn OPS THREADS
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

template <int kSite>
__attribute__((noinline)) char* AllocAt(size_t n) {
  char* p = static_cast<char*>(malloc(n));
  std::memset(p, kSite, n);
  return p;
}

unsigned long Work(int ops, unsigned seed) {
  std::vector<char*> kept(256, nullptr);
  unsigned long sum = 0;
  for (int i = 0; i < ops; ++i) {
    seed = seed * 1103515245 + 12345;
    const size_t slot = (seed >> 8) % kept.size();
    if (kept[slot] != nullptr) sum += static_cast<unsigned char>(kept[slot][0]);
    free(kept[slot]);
    const size_t n = 16 + (seed >> 16) % 1024;
    switch (seed % 4) {
      case 0:
        kept[slot] = AllocAt<1>(n);
        break;
      case 1:
        kept[slot] = AllocAt<2>(n);
        break;
      case 2:
        kept[slot] = AllocAt<3>(n);
        break;
      default:
        kept[slot] = AllocAt<4>(n);
        break;
    }
  }
  for (char* p : kept) free(p);
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  const int ops = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  std::vector<unsigned long> sums(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back([&, t] { sums[t] = Work(ops, 11u + t); });
  for (auto& w : workers) w.join();
  unsigned long total = 0;
  for (unsigned long s : sums) total += s;
  std::printf("ops %d threads %d sum %lu\n", ops, threads, total);
  return 0;
}
