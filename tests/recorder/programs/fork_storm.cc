// Threads allocating with new call stacks while the main thread forks again and again; each child
// allocates (more new stacks) and _exits. Under the recorder, a fork that lands while another
// thread is inserting a stack into the stack table must not leave the child spinning.
// Before each fork the workers start a burst of allocations from stacks never seen before, and
// the main thread forks in the middle of it.
// Usage: fork_storm [FORKS] [THREADS]. Prints one line; exit 0 when every child exited 0.
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

constexpr int kDepth = 22;  // 2^22 distinct call paths
constexpr int kBurst = 64;  // at most this many new stacks per worker per fork

std::atomic<bool> g_stop{false};
std::atomic<unsigned> g_generation{0};
std::atomic<unsigned> g_burst_allocs{0};
std::atomic<bool> g_forking{false};  // set from just before a fork until it returned

// Two functions per level, chosen by the bits of `path`: 2^depth distinct call stacks.
__attribute__((noinline)) void* LevelA(unsigned path, int depth, size_t size);
__attribute__((noinline)) void* LevelB(unsigned path, int depth, size_t size);

__attribute__((noinline)) void* LevelA(unsigned path, int depth, size_t size) {
  if (depth == 0) {
    if (size & 1) return new char[size];
    return std::malloc(size);
  }
  void* p = (path & 1) ? LevelB(path >> 1, depth - 1, size) : LevelA(path >> 1, depth - 1, size);
  asm volatile("" ::: "memory");  // no tail call: every level stays a frame
  return p;
}

__attribute__((noinline)) void* LevelB(unsigned path, int depth, size_t size) {
  if (depth == 0) return LevelA(path, 0, size);
  void* p = (path & 1) ? LevelB(path >> 1, depth - 1, size) : LevelA(path >> 1, depth - 1, size);
  asm volatile("" ::: "memory");
  return p;
}

void AllocateAndRelease(unsigned path, size_t size) {
  void* p = LevelA(path, kDepth, size);
  std::memset(p, 1, size);
  if (size & 1) {
    delete[] static_cast<char*>(p);
  } else {
    std::free(p);
  }
}

void* Worker(void* arg) {
  const unsigned id = static_cast<unsigned>(reinterpret_cast<uintptr_t>(arg)) & 63;
  unsigned seen = 0, next_path = 0;
  while (!g_stop.load(std::memory_order_relaxed)) {
    const unsigned gen = g_generation.load(std::memory_order_acquire);
    if (gen == seen) {
      AllocateAndRelease(id, 64);  // the same stack over and over until the next burst
      continue;
    }
    seen = gen;
    for (unsigned j = 0; j < kBurst && (j < 2 || g_forking.load(std::memory_order_relaxed)); ++j) {
      // Path bits: the thread in the low 6, then a per-thread counter: never the same twice.
      AllocateAndRelease((id | ++next_path << 6) & ((1u << kDepth) - 1), 16 + j);
      g_burst_allocs.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const int forks = argc > 1 ? std::atoi(argv[1]) : 200;
  int threads = argc > 2 ? std::atoi(argv[2]) : 3;
  if (threads > 64) threads = 64;
  pthread_t tids[64];
  for (int i = 0; i < threads; ++i) {
    pthread_create(&tids[i], nullptr, Worker, reinterpret_cast<void*>(uintptr_t(i)));
  }
  int failed = 0;
  for (int i = 0; i < forks; ++i) {
    const unsigned before = g_burst_allocs.load();
    g_forking = true;
    g_generation.fetch_add(1, std::memory_order_release);
    while (threads > 0 && g_burst_allocs.load() < before + 2) sched_yield();
    const pid_t pid = fork();
    g_forking = false;
    if (pid < 0) {
      std::perror("fork");
      return 2;
    }
    if (pid == 0) {
      for (unsigned k = 0; k < 50; ++k) AllocateAndRelease(0x9e3779b9u * (i + 1) + k, 32 + k);
      _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  g_stop = true;
  for (int i = 0; i < threads; ++i) pthread_join(tids[i], nullptr);
  std::printf("forks %d failed %d\n", forks, failed);
  return failed == 0 ? 0 : 1;
}
