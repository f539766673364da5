// A program that forks while its other threads allocate and map memory, for the placer's fork
// tests (placer_integration_test.cc). Its output is the same with and without the placer.
//
//   ts-placer-fork --threads T --forks F
//       T threads run malloc/free, new/delete and mmap/munmap in loops while the main thread
//       forks F times; each child allocates, maps and unmaps, then _exit(0)s. A child that does
//       not finish within 60 s is killed by its alarm (it hung on a lock that the fork copied
//       held): the program then says so and exits 1.
//   ts-placer-fork --blocks N --child-blocks M
//       No threads: N blocks from one site, one fork, the child allocates M blocks from another
//       site and exits normally (its atexit handlers and destructors run), the parent waits.
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

// Each site is a function of its own, never inlined, so a plan can name it.
__attribute__((noinline)) void* fork_site_malloc(size_t size) {
  return std::malloc(size);
}
__attribute__((noinline)) char* fork_site_new(size_t size) {
  return new char[size];
}
__attribute__((noinline)) void* fork_site_map(size_t size) {
  return mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
__attribute__((noinline)) void* fork_site_parent(size_t size) {
  return std::malloc(size);
}
__attribute__((noinline)) void* fork_site_child(size_t size) {
  return std::malloc(size);
}

// One round of every kind of allocation; false when something failed.
bool Churn(unsigned seed) {
  void* blocks[16];
  for (int i = 0; i < 16; ++i) {
    blocks[i] = fork_site_malloc(16 + (seed * 7 + i * 131) % 4000);
    if (blocks[i] == nullptr) return false;
    std::memset(blocks[i], i, 16);
  }
  char* objects[8];
  for (int i = 0; i < 8; ++i) {
    objects[i] = fork_site_new(32 + (seed + i) % 512);
    objects[i][0] = static_cast<char>(i);
  }
  const size_t len = (1 + seed % 4) * 65536;
  void* map = fork_site_map(len);
  if (map == MAP_FAILED) return false;
  static_cast<char*>(map)[0] = 1;
  static_cast<char*>(map)[len - 1] = 2;
  const bool ok = munmap(map, len) == 0;
  for (auto* o : objects) delete[] o;
  for (auto* b : blocks) std::free(b);
  return ok;
}

void Worker(unsigned id, std::atomic<uint64_t>* rounds) {
  for (unsigned seed = id; !g_stop.load(std::memory_order_relaxed); seed += 17) {
    if (!Churn(seed)) {
      std::fprintf(stderr, "worker %u: an allocation failed\n", id);
      std::_Exit(2);
    }
    rounds->fetch_add(1, std::memory_order_relaxed);
  }
}

int ForkWhileThreadsAllocate(int threads, int forks) {
  std::vector<std::thread> workers;
  std::vector<std::atomic<uint64_t>> rounds(threads);
  for (int i = 0; i < threads; ++i) workers.emplace_back(Worker, i, &rounds[i]);
  int failed = 0;
  for (int f = 0; f < forks && failed == 0; ++f) {
    // Let the workers get going between forks, so that each fork lands in the middle of them.
    for (int i = 0; i < threads; ++i) {
      const uint64_t start = rounds[i].load();
      while (rounds[i].load() < start + 2) std::this_thread::yield();
    }
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      failed = 1;
      break;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a killed test
      alarm(60);                         // a child stuck on a lock dies instead of hanging
      for (unsigned round = 0; round < 4; ++round) {
        if (!Churn(round)) _exit(3);
      }
      _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "child %d of fork %d: %s %d\n", pid, f,
                   WIFSIGNALED(status) ? "killed by signal" : "exit status",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
      failed = 1;
    }
  }
  g_stop.store(true);
  for (auto& w : workers) w.join();
  if (failed) return 1;
  std::printf("%d threads, %d forks: every child finished\n", threads, forks);
  return 0;
}

int ForkOnce(int blocks, int child_blocks) {
  std::vector<void*> kept;
  for (int i = 0; i < blocks; ++i) kept.push_back(fork_site_parent(64));
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    std::vector<void*> mine;
    for (int i = 0; i < child_blocks; ++i) mine.push_back(fork_site_child(64));
    for (void* p : mine) std::free(p);
    std::exit(0);  // a normal exit: the placer's destructor writes the child's stats
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  for (void* p : kept) std::free(p);
  std::printf("parent %d blocks, child %d blocks, child status %d\n", blocks, child_blocks,
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0, forks = 0, blocks = 0, child_blocks = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--threads") threads = value;
    if (flag == "--forks") forks = value;
    if (flag == "--blocks") blocks = value;
    if (flag == "--child-blocks") child_blocks = value;
  }
  if (forks > 0) return ForkWhileThreadsAllocate(threads, forks);
  return ForkOnce(blocks, child_blocks);
}
