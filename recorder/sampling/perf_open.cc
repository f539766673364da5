#include "perf_open.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tierscope::recorder::sampling {

int PerfEventOpen(const perf_event_attr& attr, pid_t tid, int group_fd) {
  perf_event_attr copy = attr;
  long fd = syscall(SYS_perf_event_open, &copy, tid, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

int PerfEventParanoid() {
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  int value = 99;
  in >> value;
  return in ? value : 99;
}

int OpenHardwareCycles() {
  perf_event_attr cycles;
  std::memset(&cycles, 0, sizeof cycles);
  cycles.size = sizeof cycles;
  cycles.type = PERF_TYPE_HARDWARE;
  cycles.config = PERF_COUNT_HW_CPU_CYCLES;
  cycles.disabled = 1;
  cycles.exclude_kernel = 1;
  cycles.exclude_hv = 1;
  const int fd = PerfEventOpen(cycles, 0);
  if (fd < 0) return -fd;
  close(fd);
  return 0;
}

std::string ExplainOpenError(const std::string& sampler, int err) {
  std::string line = sampler + ": perf_event_open: " + std::strerror(err);
  switch (err) {
    case EACCES:
    case EPERM:
      line += " (kernel.perf_event_paranoid=" + std::to_string(PerfEventParanoid()) +
              "): run 'sysctl kernel.perf_event_paranoid=1' or give the recorder CAP_PERFMON";
      break;
    case ENOENT:
    case EOPNOTSUPP:
    case ENODEV:
      line += " (this CPU or VM does not provide the event";
      line += sampler == "timer" || sampler == "faults" ? ")" : "); use --sampler timer";
      break;
    case EINVAL:
      line += " (the kernel rejects this event configuration";
      line += sampler == "timer" || sampler == "faults" ? ")" : "); use --sampler timer";
      break;
    case EMFILE:
    case ENFILE:
      line += " (out of file descriptors: raise 'ulimit -n')";
      break;
    case ENOMEM:
      line += " (perf ring memory: raise kernel.perf_event_mlock_kb)";
      break;
    default:
      break;
  }
  return line;
}

void WarnLine(const std::string& line) {
  std::string out = "tierscope: " + line + "\n";
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = write(STDERR_FILENO, out.data() + done, out.size() - done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace tierscope::recorder::sampling
