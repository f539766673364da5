// Threads allocate (malloc, new[], mmap) without pause while the main thread forks: every child
// allocates and maps too, then ends by exit(), _exit() or a return from main's loop, with a status
// the parent checks. Usage: fork_threads FORKS THREADS
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

void Churn(unsigned seed) {
  std::vector<void*> kept(64, nullptr);
  while (!g_stop.load(std::memory_order_relaxed)) {
    seed = seed * 1103515245 + 12345;
    const size_t slot = (seed >> 8) % kept.size();
    free(kept[slot]);
    kept[slot] = malloc(16 + (seed >> 16) % 4096);
    char* a = new char[(seed >> 4) % 512 + 1];
    a[0] = 1;
    delete[] a;
    if (slot % 8 == 0) {
      void* m = mmap(nullptr, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m != MAP_FAILED) {
        static_cast<char*>(m)[0] = 1;
        munmap(m, 1 << 16);
      }
    }
  }
  for (void* p : kept) free(p);
}

// What a child does before it ends; its exit status says it got there.
int ChildWork(int i) {
  std::vector<char*> blocks;
  for (int k = 0; k < 200; ++k) blocks.push_back(static_cast<char*>(malloc(32 + k)));
  for (char* b : blocks) free(b);
  int* n = new int[100]();
  const int sum = n[7];
  delete[] n;
  void* m = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 100;
  std::memset(m, 1, 1 << 20);
  munmap(m, 1 << 20);
  return i % 7 + sum;
}

}  // namespace

int main(int argc, char** argv) {
  const int forks = argc > 1 ? std::atoi(argv[1]) : 100;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 3;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(Churn, 7u + t);
  int bad = 0;
  for (int i = 0; i < forks; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      ++bad;
      continue;
    }
    if (pid == 0) {
      const int status = ChildWork(i);
      if (i % 3 == 0) exit(status);  // the C library's exit: atexit handlers, destructors
      _exit(status);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != i % 7) {
      ++bad;
    }
  }
  g_stop = true;
  for (auto& w : workers) w.join();
  std::printf("forks %d bad %d\n", forks, bad);
  return bad == 0 ? 0 : 1;
}
