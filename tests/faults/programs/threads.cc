// Thousands of threads: WAVES waves of PER_WAVE threads that allocate, free and exit, then
// TOGETHER threads alive at once, each allocating before it waits for all the others at a barrier.
// Usage: threads WAVES PER_WAVE TOGETHER
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

pthread_barrier_t g_barrier;

void* Short(void* arg) {
  const long n = reinterpret_cast<long>(arg);
  std::string s(32 + n % 200, 's');
  void* p = malloc(64 + n % 1000);
  free(p);
  return reinterpret_cast<void*>(static_cast<long>(s.size()));
}

void* Waiting(void* arg) {
  std::vector<int>* v = new std::vector<int>(100 + reinterpret_cast<long>(arg) % 10);
  pthread_barrier_wait(&g_barrier);
  delete v;
  return nullptr;
}

long Start(long count, void* (*fn)(void*)) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 << 10);
  std::vector<pthread_t> ids(count);
  long started = 0, total = 0;
  for (long i = 0; i < count; ++i) {
    if (pthread_create(&ids[i], &attr, fn, reinterpret_cast<void*>(i)) == 0) ++started;
  }
  for (long i = 0; i < started; ++i) {
    void* r = nullptr;
    pthread_join(ids[i], &r);
    total += reinterpret_cast<long>(r);
  }
  pthread_attr_destroy(&attr);
  return started == count ? total : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const long waves = argc > 1 ? std::atol(argv[1]) : 10;
  const long per_wave = argc > 2 ? std::atol(argv[2]) : 100;
  const long together = argc > 3 ? std::atol(argv[3]) : 1200;
  long sum = 0;
  for (long w = 0; w < waves; ++w) sum += Start(per_wave, Short);
  pthread_barrier_init(&g_barrier, nullptr, static_cast<unsigned>(together));
  const long waited = Start(together, Waiting);
  std::printf("threads %ld sum %ld, %ld together %s\n", waves * per_wave, sum, together,
              waited == 0 ? "ok" : "failed");
  return 0;
}
