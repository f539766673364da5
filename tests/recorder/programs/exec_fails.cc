// Execs that fail, and the program goes on: execvp of a program that is not on PATH, then execv
// of a directory (executable by access(), refused by execve). Allocates 1000 blocks of 100 bytes
// before, between and after (3000 in all), frees them, prints one line per failed exec.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

__attribute__((noinline)) void AllocateAThousand() {
  void* blocks[1000];
  for (auto& b : blocks) {
    b = std::malloc(100);
    std::memset(b, 1, 100);
  }
  for (auto& b : blocks) std::free(b);
}

}  // namespace

int main() {
  AllocateAThousand();
  char* const missing[] = {const_cast<char*>("tierscope-test-no-such-program"), nullptr};
  execvp(missing[0], missing);
  std::printf("execvp failed: %s\n", std::strerror(errno));
  AllocateAThousand();
  char* const directory[] = {const_cast<char*>("/"), nullptr};
  execv("/", directory);
  std::printf("execv failed: %s\n", std::strerror(errno));
  AllocateAThousand();
  return 0;
}
