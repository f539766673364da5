#include "stop_point.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tierscope::lab {

int RunStoppingAt(const std::vector<std::string>& argv, StopPoint point,
                  const std::function<void(pid_t)>& inspect, std::string* error) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(nullptr);  // the child must not write this process's buffered output again
  const pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    // The child stops with SIGTRAP at exec, so the options below are set before it runs.
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  const bool at_write = point == StopPoint::kFirstStdoutWrite;
  bool started = false, reached = false;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
      *error = std::string("waitpid: ") + std::strerror(errno);
      return -1;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (!reached) {
        *error = argv[0] + " ended (status " + std::to_string(code) + ") before the stop point";
        return -1;
      }
      return code;
    }
    if (!WIFSTOPPED(status)) continue;
    const int sig = WSTOPSIG(status);
    int deliver = 0;
    if (!started && sig == SIGTRAP) {
      // The exec stop: ask for the stops we need from now on.
      started = true;
      ptrace(PTRACE_SETOPTIONS, pid, nullptr,
             PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD);
    } else if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
      // A wrapper (numactl, tierscope run) exec'ing the real program: keep following it.
    } else if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
      if (!reached && !at_write) {
        reached = true;
        inspect(pid);
      }
    } else if (sig == (SIGTRAP | 0x80)) {
      // A syscall stop (entry or exit; a write's exit stop has rdi = bytes written, never
      // mistaken for fd 1 since the inspection ends syscall tracing at the entry).
      user_regs_struct regs{};
      ptrace(PTRACE_GETREGS, pid, nullptr, &regs);
      if (!reached && regs.orig_rax == SYS_write && regs.rdi == 1) {
        reached = true;
        inspect(pid);
      }
    } else {
      deliver = sig;  // the program's own signals go through unchanged
    }
    const bool trace_syscalls = at_write && !reached;
    ptrace(trace_syscalls ? PTRACE_SYSCALL : PTRACE_CONT, pid, nullptr,
           reinterpret_cast<void*>(static_cast<long>(deliver)));
  }
}

}  // namespace tierscope::lab
