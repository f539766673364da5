// Fibers (makecontext/swapcontext) on stacks from malloc and from mmap, built without frame
// pointers: each fiber allocates through a few levels of calls on its own stack and yields back
// and forth; a signal handler on a sigaltstack allocates too. Usage: fibers FIBERS ROUNDS
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr size_t kStack = 256 << 10;
ucontext_t g_main;
std::vector<ucontext_t> g_fibers;
std::vector<long> g_sums;
int g_rounds = 0;
__thread void* t_block __attribute__((tls_model("initial-exec"))) = nullptr;

__attribute__((noinline)) long Level(int depth, int seed) {
  char* p = static_cast<char*>(malloc(32 + seed % 500));
  p[0] = static_cast<char>(seed);
  long v = p[0];
  if (depth > 0) v += Level(depth - 1, seed * 7 + 1);
  int* q = new int[depth + 3]();
  v += q[0];
  delete[] q;
  free(p);
  return v;
}

void FiberMain(int index) {
  for (int r = 0; r < g_rounds; ++r) {
    g_sums[index] += Level(4, index + r);
    swapcontext(&g_fibers[index], &g_main);
  }
}

void OnUsr1(int) {
  // The 40-byte class only (nothing else allocates it): served from the thread's cache.
  free(t_block);
  t_block = malloc(40);
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 8;
  g_rounds = argc > 2 ? std::atoi(argv[2]) : 200;
  t_block = malloc(40);
  stack_t alt{};
  alt.ss_sp = malloc(SIGSTKSZ * 4);
  alt.ss_size = SIGSTKSZ * 4;
  sigaltstack(&alt, nullptr);
  struct sigaction sa {};
  sa.sa_handler = OnUsr1;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, nullptr);

  g_fibers.resize(count);
  g_sums.assign(count, 0);
  std::vector<void*> stacks(count);
  for (int i = 0; i < count; ++i) {
    stacks[i] = i % 2 == 0 ? malloc(kStack)
                           : mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    getcontext(&g_fibers[i]);
    g_fibers[i].uc_stack.ss_sp = stacks[i];
    g_fibers[i].uc_stack.ss_size = kStack;
    g_fibers[i].uc_link = &g_main;
    makecontext(&g_fibers[i], reinterpret_cast<void (*)()>(FiberMain), 1, i);
  }
  for (int r = 0; r <= g_rounds; ++r) {
    for (int i = 0; i < count; ++i) swapcontext(&g_main, &g_fibers[i]);
    if (r % 20 == 0) raise(SIGUSR1);
  }
  long total = 0;
  for (long s : g_sums) total += s;
  for (int i = 0; i < count; ++i) {
    if (i % 2 == 0) {
      free(stacks[i]);
    } else {
      munmap(stacks[i], kStack);
    }
  }
  std::printf("fibers %d rounds %d sum %ld\n", count, g_rounds, total);
  return 0;
}
