// Preloaded next to tierscope's library: its constructor (priority 101, before most others)
// allocates and its destructor frees, late at exit; the program checks the bytes in between.
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" {
char* fault_early_block = nullptr;
}

namespace {

std::string* g_text = nullptr;

__attribute__((constructor(101))) void EarlyAlloc() {
  fault_early_block = static_cast<char*>(malloc(1000));
  std::memset(fault_early_block, 'E', 1000);
  g_text = new std::string(5000, 'e');
}

__attribute__((destructor(101))) void LateFree() {
  if (fault_early_block[999] != 'E' || (*g_text)[4999] != 'e') abort();
  free(fault_early_block);
  delete g_text;
}

}  // namespace
