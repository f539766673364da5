// Execs itself N times, through a different exec function each time (execv, execvp, execve,
// execl, fexecve), allocating before each exec; the last image prints what every stage counted.
// Usage: exec_chain N [SUM]
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

extern char** environ;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 5;
  const long sum = argc > 2 ? std::atol(argv[2]) : 0;
  std::map<int, std::string> m;
  for (int i = 0; i < 2000; ++i) m[i] = std::string(i % 64 + 1, static_cast<char>('a' + n));
  long here = 0;
  for (const auto& [k, v] : m) here += k + static_cast<long>(v.size());
  std::printf("stage %d\n", n);
  std::fflush(stdout);
  if (n == 0) {
    std::printf("done %ld\n", sum + here);
    return 3;
  }
  const std::string next = std::to_string(n - 1), total = std::to_string(sum + here);
  char* args[] = {argv[0], const_cast<char*>(next.c_str()), const_cast<char*>(total.c_str()),
                  nullptr};
  switch (n % 5) {
    case 0:
      execv(argv[0], args);
      break;
    case 1:
      execvp(argv[0], args);
      break;
    case 2:
      execve(argv[0], args, environ);
      break;
    case 3:
      execl(argv[0], argv[0], args[1], args[2], static_cast<char*>(nullptr));
      break;
    case 4: {
      const int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
      fexecve(fd, args, environ);
      break;
    }
  }
  std::perror("exec");
  return 1;
}
