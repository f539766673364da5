// dlopen/dlclose churn while a thread allocates: two libraries take turns (often at the same
// address), each allocation made in the library is freed by the program after the library is
// gone, and its bytes are checked. Usage: dl_churn ROUNDS LIB_A LIB_B
#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  const int rounds = std::atoi(argv[1]);
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop.load()) free(malloc(200));
  });
  long sum = 0, failures = 0;
  for (int r = 0; r < rounds; ++r) {
    void* lib = dlopen(argv[2 + r % 2], RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      ++failures;
      continue;
    }
    auto alloc = reinterpret_cast<char* (*)(int)>(dlsym(lib, "fault_plugin_alloc"));
    char* kept = alloc != nullptr ? alloc(50 + r % 50) : nullptr;
    dlclose(lib);
    if (kept == nullptr) {
      ++failures;
      continue;
    }
    sum += kept[0] + kept[63];
    free(kept);
  }
  stop = true;
  worker.join();
  std::printf("rounds %d sum %ld failures %ld\n", rounds, sum, failures);
  return 0;
}
