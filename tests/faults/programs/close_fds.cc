// Closes every file descriptor above stderr (a daemon's start-up), or dup2s one file over all of
// them (MODE dup2), then writes a file of its own (which the kernel gives the lowest free
// descriptor, or which now sits behind every descriptor) in pieces while it allocates, and checks
// that the file holds exactly what it wrote. Usage: close_fds close|dup2 DIR
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const bool dup = std::strcmp(argv[1], "dup2") == 0;
  const std::string path = std::string(argv[2]) + "/own." + std::to_string(getpid());
  std::vector<std::string> warmup;
  for (int i = 0; i < 10000; ++i) warmup.emplace_back(50, 'w');
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  const int top = static_cast<int>(lim.rlim_cur < 4096 ? lim.rlim_cur : 4096);
  int fd = -1;
  if (dup) {
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    for (int other = 3; other < top; ++other) {
      if (other != fd) dup2(fd, other);
    }
  } else {
    for (int other = 3; other < top; ++other) close(other);
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  }
  unlink(path.c_str());
  std::string expected;
  for (int piece = 0; piece < 40; ++piece) {
    const std::string line = "piece " + std::to_string(piece) + " " + std::string(100, 'x') + "\n";
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 3;
    expected += line;
    for (int i = 0; i < 5000; ++i) warmup[i % warmup.size()] = std::string(60 + i % 30, 'v');
    timespec ms{0, 2'000'000};  // let a preloaded writer thread run between the pieces
    nanosleep(&ms, nullptr);
  }
  const off_t size = lseek(fd, 0, SEEK_END);
  std::string got(static_cast<size_t>(size), '\0');
  const ssize_t read_back = pread(fd, got.data(), got.size(), 0);
  if (read_back == size && got == expected) {
    std::printf("%s: own file intact, %zu bytes\n", argv[1], expected.size());
  } else {
    std::printf("%s: own file damaged: %lld bytes, %zu expected\n", argv[1],
                static_cast<long long>(size), expected.size());
  }
  return 0;
}
