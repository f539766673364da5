// Threads allocate without pause; after a number of rounds chosen by SEED (and a pause of up to a
// 100 ms, also from SEED) the main thread kills its own process with SIGKILL: a death at a
// moment nobody chose, with no handler, no exit path. Usage: sigkill SEED
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

void Churn(unsigned seed) {
  std::vector<std::string*> kept(128, nullptr);
  for (;;) {
    seed = seed * 1103515245 + 12345;
    const size_t slot = (seed >> 8) % kept.size();
    delete kept[slot];
    kept[slot] = new std::string(16 + (seed >> 16) % 300, 'k');
    free(malloc(8 + seed % 5000));
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned seed = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 1;
  std::printf("started\n");
  std::fflush(stdout);
  for (unsigned t = 0; t < 3; ++t) std::thread(Churn, seed + t).detach();
  seed = seed * 1103515245 + 12345;
  const int rounds = 1000 + static_cast<int>((seed >> 8) % 200000);
  for (int i = 0; i < rounds; ++i) free(malloc(64 + i % 256));
  seed = seed * 1103515245 + 12345;
  timespec pause{0, 1'000'000 + static_cast<long>((seed >> 8) % 100'000'000)};
  nanosleep(&pause, nullptr);
  kill(getpid(), SIGKILL);
  return 0;
}
