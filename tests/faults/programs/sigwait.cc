// The usual way to take signals in a threaded program: block them in every thread (the mask is
// set before any thread starts) and take them in one thread with sigwait. Process-directed
// SIGALRM (a timer), SIGUSR1 and SIGTERM (sent to the process) must all reach that thread; a
// thread that leaves them unblocked (one the program did not start) would take them instead.
// Usage: sigwait ROUNDS
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGALRM);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    std::vector<std::string> words;
    while (!stop.load()) {
      words.emplace_back(64, 'w');
      if (words.size() > 1000) words.clear();
    }
  });
  itimerval every{{0, 200}, {0, 200}};
  setitimer(ITIMER_REAL, &every, nullptr);
  int alarms = 0, usr1 = 0, term = 0;
  for (int i = 0; i < rounds; ++i) {
    int sig = 0;
    if (i % 10 == 0) kill(getpid(), i % 20 == 0 ? SIGUSR1 : SIGTERM);
    sigwait(&set, &sig);
    alarms += sig == SIGALRM;
    usr1 += sig == SIGUSR1;
    term += sig == SIGTERM;
    free(malloc(100 + i));
  }
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  stop = true;
  worker.join();
  std::printf("took %d signals by sigwait\n", alarms + usr1 + term);
  return 0;
}
