// A library the dlopen churn loads and unloads: it allocates blocks that outlive it (freed by the
// program after dlclose) and blocks it frees itself. Built twice (PLUGIN_TAG 1 and 2) so that two
// different libraries take turns at what is often the same address.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" char* fault_plugin_alloc(int n) {
  std::vector<std::string> scratch;
  for (int i = 0; i < n; ++i) scratch.emplace_back(20 + i % 100, 'p');
  char* kept = static_cast<char*>(malloc(64 + n));
  std::memset(kept, PLUGIN_TAG, 64 + n);
  return kept;
}
