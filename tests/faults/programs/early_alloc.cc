// Memory allocated before any library constructor of default priority, and freed after main and
// after the other destructors: a constructor and a destructor of priority 101 (the earliest and
// the latest a program can ask for), with realloc and aligned blocks in between. A block the
// preloaded fault library made in its own constructor is read too when it is there.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" __attribute__((weak)) char* fault_early_block;

namespace {

struct Early {
  char* plain;
  void* aligned;
  std::vector<std::string>* words;
  int* array;
};
Early g_early;

__attribute__((constructor(101))) void AllocateEarly() {
  g_early.plain = static_cast<char*>(malloc(100));
  std::memset(g_early.plain, 'a', 100);
  posix_memalign(&g_early.aligned, 4096, 10000);
  std::memset(g_early.aligned, 'b', 10000);
  g_early.words = new std::vector<std::string>();
  for (int i = 0; i < 100; ++i) g_early.words->push_back(std::string(i + 20, 'w'));
  g_early.array = new int[1000]();
}

__attribute__((destructor(101))) void FreeLate() {
  free(g_early.plain);
  free(g_early.aligned);
  delete g_early.words;
  delete[] g_early.array;
}

}  // namespace

int main() {
  g_early.plain = static_cast<char*>(realloc(g_early.plain, 100000));
  std::memset(g_early.plain + 100, 'c', 100000 - 100);
  long sum = 0;
  for (const auto& w : *g_early.words) sum += static_cast<long>(w.size());
  const bool intact = g_early.plain[99] == 'a' && g_early.plain[99999] == 'c' &&
                      static_cast<char*>(g_early.aligned)[9999] == 'b' && g_early.array[999] == 0;
  const bool preloaded = &fault_early_block != nullptr && fault_early_block != nullptr;
  std::printf("words %ld intact %d preloaded block %s\n", sum, intact,
              preloaded ? (fault_early_block[0] == 'E' ? "intact" : "damaged") : "absent");
  return 0;
}
