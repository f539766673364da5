#include "timeline.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "allocation_path.h"
#include "exit_report.h"
#include "tier_usage.h"
#include "tierscope/placer/stats_summary.h"

namespace tierscope::placer {

namespace {

// Constant-initialized: the placer's constructor may run before this file's dynamic
// initializers (a std::string here would be reset after StartTimeline set it).
constexpr size_t kMaxPath = 4096;
char g_pattern[kMaxPath];  // as given (a forked child derives its own file from it)
char g_path[kMaxPath];     // this process's file
double g_every = 10;
timespec g_start{};
std::atomic<bool> g_running{false};
// The thread and the exit path both write lines; a forked child gets a fresh one (the thread
// that may have held it did not come along).
pthread_mutex_t g_write_lock = PTHREAD_MUTEX_INITIALIZER;

// Truncated (a child's ".PID" may not fit: its lines then go to a shorter name, never past the
// buffer).
void SetPath(char* to, const std::string& path) {
  const size_t n = std::min(path.size(), kMaxPath - 1);
  std::memcpy(to, path.data(), n);
  to[n] = '\0';
}

double Seconds(const timespec& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

std::string Line(const char* when) {
  using nlohmann::json;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  RefreshAllocatorStats();
  json line;
  line["t_s"] = Seconds(now) - Seconds(g_start);
  line["pid"] = getpid();
  line["when"] = when;
  line["rss_bytes"] = ProcessRss();
  line["allocated_bytes"] = AllocatedBytes();  // jemalloc, every arena
  json tiers = json::array();
  uint64_t tiers_live = 0;
  for (int i = 0; g_state.tiers_ready && i < g_state.arenas.count(); ++i) {
    const TierUsage usage = UsageOf(i);
    tiers_live += usage.live_bytes;
    tiers.push_back({{"name", g_info.tiers[i].name},
                     {"live_bytes", usage.live_bytes},
                     {"resident_bytes", usage.resident_bytes},
                     {"footprint_bytes", usage.footprint_bytes},
                     {"mapped_bytes", usage.mapped_bytes}});
  }
  line["tiers_live_bytes"] = tiers_live;
  line["tiers"] = tiers;
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// False (said once) when the line cannot be written: the timeline stops.
// `last`: the exit line; none after it (the thread may be waiting for the lock meanwhile).
bool Append(const char* when, bool last = false) {
  pthread_mutex_lock(&g_write_lock);
  if (!g_running.load()) {
    pthread_mutex_unlock(&g_write_lock);
    return false;
  }
  bool ok = false;
  try {
    const std::string text = Line(when);
    const int fd = open(g_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      const int saved = errno;
      close(fd);
      errno = saved;
    }
    if (!ok) {
      g_running.store(false);
      Say(std::string("TIERSCOPE_PLACER_TIMELINE=") + g_path +
          ": cannot write a line: " + std::strerror(errno ? errno : EIO) + "; the timeline stops");
    }
  } catch (const std::exception& e) {
    g_running.store(false);
    Say(std::string("TIERSCOPE_PLACER_TIMELINE: ") + e.what() + "; the timeline stops");
  }
  if (last) g_running.store(false);
  pthread_mutex_unlock(&g_write_lock);
  return ok;
}

void* Run(void*) {
  t_thread.guard++;  // the placer's own thread: what it allocates takes the default path
  timespec next = g_start;
  for (;;) {
    const double at = Seconds(next) + g_every;
    next.tv_sec = static_cast<time_t>(at);
    next.tv_nsec = static_cast<long>((at - static_cast<double>(next.tv_sec)) * 1e9);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
    }
    if (!Append("interval")) break;
  }
  return nullptr;
}

// The program's signals are not ours to take: the thread runs with all of them blocked.
bool SpawnThread() {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  const int error = pthread_create(&thread, &attr, Run, nullptr);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (error != 0) {
    g_running.store(false);
    Say(std::string("TIERSCOPE_PLACER_TIMELINE: cannot start its thread: ") + std::strerror(error) +
        "; no timeline");
    return false;
  }
  return true;
}

// In a forked child: the thread did not come along; this process gets its own file and thread.
void AfterForkInChild() {
  if (!g_running.load()) return;
  pthread_mutex_init(&g_write_lock, nullptr);
  SetPath(g_path, ProcessFilePath(g_pattern, getpid(), false));
  clock_gettime(CLOCK_MONOTONIC, &g_start);
  if (Append("start")) SpawnThread();
}

}  // namespace

void StartTimeline(const std::string& pattern, bool tree_root, double every_seconds) {
  if (pattern.size() >= kMaxPath) {
    Say("TIERSCOPE_PLACER_TIMELINE: the path is longer than " + std::to_string(kMaxPath - 1) +
        " bytes; no timeline");
    return;
  }
  SetPath(g_pattern, pattern);
  SetPath(g_path, ProcessFilePath(pattern, getpid(), tree_root));
  g_every = every_seconds;
  clock_gettime(CLOCK_MONOTONIC, &g_start);
  g_running.store(true);
  // The first line here, not in the thread: a process that exits at once still has its start.
  if (Append("start") && SpawnThread()) pthread_atfork(nullptr, nullptr, AfterForkInChild);
}

void StopTimeline() {
  if (g_running.load()) Append("exit", /*last=*/true);
}

}  // namespace tierscope::placer
