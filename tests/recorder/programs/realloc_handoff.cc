// A realloc that gives its old block to another thread before it returns, as a real allocator can:
// with libts-test-realloc-handoff.so preloaded (after the recorder), the main thread's
// realloc(old, 4000) moves the block, then lets the second thread's realloc(nullptr, 40) be handed
// `old` and return, and only then returns itself. Prints the two addresses.
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

sem_t g_go, g_done;
void* g_reused = nullptr;

void Handoff() {
  sem_post(&g_go);
  sem_wait(&g_done);
}

void* Reuser(void*) {
  sem_wait(&g_go);
  // A malloc that the handoff library answers (volatile: the compiler turns realloc(nullptr, n)
  // into malloc(n)).
  void* volatile none = nullptr;
  g_reused = std::realloc(none, 40);
  sem_post(&g_done);
  return nullptr;
}

}  // namespace

int main() {
  using SetHandoff = void (*)(void (*)());
  auto set = reinterpret_cast<SetHandoff>(dlsym(RTLD_DEFAULT, "ts_test_set_realloc_handoff"));
  if (set == nullptr) {
    std::fprintf(stderr, "realloc_handoff: preload libts-test-realloc-handoff.so\n");
    return 2;
  }
  sem_init(&g_go, 0, 0);
  sem_init(&g_done, 0, 0);
  pthread_t reuser;
  pthread_create(&reuser, nullptr, Reuser, nullptr);
  void* old = std::malloc(48);
  const auto old_address = reinterpret_cast<uintptr_t>(old);  // not a pointer once reallocated
  set(Handoff);
  void* moved = std::realloc(old, 4000);
  pthread_join(reuser, nullptr);
  std::printf("old=%#jx reused=%p\n", static_cast<uintmax_t>(old_address), g_reused);
  std::free(moved);
  std::free(g_reused);
  return 0;
}
