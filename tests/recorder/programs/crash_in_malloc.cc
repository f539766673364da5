// Allocates in a loop (a few hundred ms of CPU, so access samplers have samples to drain), then
// dies inside malloc: it corrupts the size of the heap's top chunk and asks for more, and glibc
// aborts ("malloc(): corrupted top size") while it holds the arena's lock. Run with
// GLIBC_TUNABLES=glibc.malloc.arena_max=1, every thread of the process shares that lock: a
// recorder that waits without a bound for one of its threads to finish on the crash path hangs.
// Usage: crash_in_malloc [ROUNDS] [--exit-in-handler]. Dies with SIGABRT, or with the second
// argument its own SIGABRT handler calls _exit(3) (the recorder then finishes on its exit path,
// inside the crashed program). Prints one line before.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

// glibc's chunk header: the size (and flag bits) in the 8 bytes before the block.
size_t ChunkSize(const void* p) {
  asm("" : "+r"(p));  // the compiler must not reason about the block's bounds
  return reinterpret_cast<const size_t*>(p)[-1] & ~size_t{7};
}

void ExitInHandler(int) {
  _exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the blocks below come from the heap, not mmap
  if (argc > 2 && std::strcmp(argv[2], "--exit-in-handler") == 0) signal(SIGABRT, ExitInHandler);
  uint64_t sum = 0;
  std::vector<char*> live(4096, nullptr);
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < live.size(); ++i) {
      std::free(live[i]);
      const size_t size = 16 + (i * 37 + r) % 2000;
      live[i] = static_cast<char*>(std::malloc(size));
      std::memset(live[i], static_cast<int>(r), size);
      sum += static_cast<unsigned char>(live[(i * 7) % live.size()] ? live[(i * 7) % live.size()][0]
                                                                    : 0);
    }
  }
  std::printf("sum %llu\n", static_cast<unsigned long long>(sum));
  std::fflush(stdout);
  // A block carved from the top chunk: its successor is the top chunk, which ends at the break.
  for (int tries = 0; tries < 64; ++tries) {
    char* block = static_cast<char*>(std::malloc(256 * 1024 - 64));
    char* next = block - 16 + ChunkSize(block);
    asm("" : "+r"(next));
    size_t* next_size = reinterpret_cast<size_t*>(next + 8);
    if (next + (*next_size & ~size_t{7}) != sbrk(0)) continue;
    *next_size = ~size_t{0} & ~size_t{7};  // larger than the arena: "corrupted top size"
    void* p = std::malloc(512 * 1024 - 64);
    std::printf("not reached %p\n", p);
    return 1;
  }
  std::fprintf(stderr, "crash_in_malloc: no block next to the top chunk\n");
  return 2;
}
