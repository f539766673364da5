// Starts children while two threads allocate: vfork + exec, vfork + _exit without exec, vfork +
// a failed exec, posix_spawn and posix_spawnp of itself. Each child prints one line and exits
// with a status the parent prints. Usage: spawn ROUNDS  (child mode: spawn child N)
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

std::atomic<bool> g_stop{false};

void Churn(unsigned seed) {
  while (!g_stop.load(std::memory_order_relaxed)) {
    seed = seed * 1103515245 + 12345;
    void* p = malloc(16 + (seed >> 16) % 2048);
    std::string s(40 + seed % 100, 'x');
    free(p);
  }
}

int Status(pid_t pid) {
  int status = 0;
  if (pid <= 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ChildMain(int n) {
  std::vector<std::string> words;
  for (int i = 0; i < 1000; ++i) words.push_back(std::to_string(i * n));
  std::printf("child %d words %zu\n", n, words.size());
  return n % 5;
}

}  // namespace

// One round of every way to start a child; a function of its own so that nothing of the caller's
// lives across the vforks.
__attribute__((noinline)) void Round(int r, char** argv) {
  std::fflush(stdout);
  const std::string n = std::to_string(r);
  char* child_argv[] = {argv[0], const_cast<char*>("child"), const_cast<char*>(n.c_str()), nullptr};
  pid_t pid = vfork();
  if (pid == 0) {
    execv(argv[0], child_argv);
    _exit(126);
  }
  std::printf("vfork+exec %d\n", Status(pid));
  std::fflush(stdout);
  pid = vfork();
  if (pid == 0) _exit(7);
  std::printf("vfork+_exit %d\n", Status(pid));
  pid = vfork();
  if (pid == 0) {
    char* missing_argv[] = {const_cast<char*>("/nonexistent/program"), nullptr};
    execv(missing_argv[0], missing_argv);
    _exit(127);
  }
  std::printf("vfork+failed exec %d\n", Status(pid));
  std::fflush(stdout);
  pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], nullptr, nullptr, child_argv, environ);
  std::printf("posix_spawn %d %d\n", spawned, Status(pid));
  std::fflush(stdout);
  pid = -1;
  const int spawnedp = posix_spawnp(&pid, argv[0], nullptr, nullptr, child_argv, environ);
  std::printf("posix_spawnp %d %d\n", spawnedp, Status(pid));
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "child") return ChildMain(std::atoi(argv[2]));
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 10;
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < 2; ++t) workers.emplace_back(Churn, 3u + t);
  for (int r = 0; r < rounds; ++r) Round(r, argv);
  g_stop = true;
  for (auto& w : workers) w.join();
  return 0;
}
