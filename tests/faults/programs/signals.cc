// A SIGALRM handler that allocates (malloc/free, new/delete of one size class the rest of the
// program never uses, so that glibc serves it from the thread's cache without a lock even when the
// signal lands inside malloc) and maps memory, every 100 us, while the main loop and a worker
// allocate and free other sizes and realloc: signals land inside malloc, inside the preloaded
// hooks, and inside their stack walks. Usage: signals HANDLED
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

std::atomic<long> g_handled{0};
std::atomic<bool> g_stop{false};
__thread void* t_block __attribute__((tls_model("initial-exec"))) = nullptr;

void OnAlarm(int) {
  const int saved = errno;
  // 40-byte requests: glibc's 48-byte class, which nothing else here allocates.
  if (t_block != nullptr) {
    // Each step leaves at most one block in the cache's bin: never a refill under a lock.
    free(t_block);
    int* n = new int[10];  // 40 bytes too
    delete[] n;
    t_block = malloc(40);
  }
  void* m = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m != MAP_FAILED) munmap(m, 4096);
  g_handled.fetch_add(1, std::memory_order_relaxed);
  errno = saved;
}

// Sizes of 100 bytes and more (never the handler's class).
unsigned long Loop(unsigned seed, const std::atomic<bool>& stop) {
  t_block = malloc(40);
  std::vector<char*> kept(64, nullptr);
  unsigned long sum = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    seed = seed * 1103515245 + 12345;
    const size_t slot = (seed >> 8) % kept.size();
    const size_t n = 100 + (seed >> 16) % 8000;
    char* p;
    if (kept[slot] != nullptr && seed % 3 == 0) {
      p = static_cast<char*>(realloc(kept[slot], n));
    } else {
      free(kept[slot]);
      p = static_cast<char*>(malloc(n));
    }
    if (p[0] != 5) p[0] = 5;
    sum += 1;
    kept[slot] = p;
    double* d = new double[100 + seed % 50];
    delete[] d;
  }
  for (char* p : kept) free(p);
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  const long want = argc > 1 ? std::atol(argv[1]) : 2000;
  struct sigaction sa {};
  sa.sa_handler = OnAlarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
  std::thread worker([] { Loop(99, g_stop); });
  itimerval every{{0, 100}, {0, 100}};
  setitimer(ITIMER_REAL, &every, nullptr);
  std::atomic<bool> main_stop{false};
  std::thread stopper([&] {
    while (g_handled.load() < want) {
      timespec ts{0, 1'000'000};
      nanosleep(&ts, nullptr);
    }
    main_stop = true;
  });
  Loop(7, main_stop);
  stopper.join();
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  g_stop = true;
  worker.join();
  std::printf("handled at least %ld signals\n", want);
  return 0;
}
