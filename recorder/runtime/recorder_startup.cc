// The recorder's start-up from the environment (TIERSCOPE_*, recorder/README.md): which file this
// process writes, its memory, the samplers, the writer and the trace header; and its shutdown.
#include <link.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "kernel_pages.h"
#include "module_maps.h"
#include "runtime.h"
#include "runtime_state.h"
#include "writer.h"

#ifndef TIERSCOPE_VERSION
#define TIERSCOPE_VERSION "unknown"
#endif

namespace tierscope::recorder {

__thread int t_guard __attribute__((tls_model("initial-exec"))) = 0;
__thread int64_t t_sample_countdown __attribute__((tls_model("initial-exec"))) = 0;
bool g_alloc_sampling = false;
const AddressSet* g_release_filter = nullptr;
uint64_t g_sampling_min_size = 0;
__thread ThreadState* t_state __attribute__((tls_model("initial-exec"))) = nullptr;
std::atomic<bool> g_recording{false};
RuntimeState* g_state = nullptr;

namespace {

alignas(RuntimeState) unsigned char g_state_storage[sizeof(RuntimeState)];

std::string ReadFirstLine(const char* path, const char* prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return {};
}

trace::Header MakeHeader(const RuntimeState& s) {
  trace::Header h;
  h.set_pid(static_cast<uint32_t>(getpid()));
  h.set_ppid(static_cast<uint32_t>(getppid()));
  std::ifstream cmd("/proc/self/cmdline", std::ios::binary);
  std::string arg;
  while (std::getline(cmd, arg, '\0')) h.add_cmdline(arg);
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) h.set_executable(std::string(buf, static_cast<size_t>(n)));
  if (gethostname(buf, sizeof buf) == 0) h.set_hostname(buf);
  h.set_clock("CLOCK_MONOTONIC");
  timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  h.set_start_time_ns(NowNs());
  h.set_start_realtime_ns(static_cast<uint64_t>(rt.tv_sec) * 1'000'000'000 + rt.tv_nsec);
  h.set_cpu_model(ReadFirstLine("/proc/cpuinfo", "model name"));
  trace::RecorderConfig* r = h.mutable_recorder();
  r->set_max_stack_depth(s.config.max_stack_depth);
  r->set_alloc_sample_bytes(s.config.alloc_sample_bytes);
  r->set_min_size(s.config.min_size);
  r->set_follow_fork(s.config.follow_fork);
  r->set_follow_exec(s.config.follow_exec);
  r->set_buffer_bytes(s.config.buffer_bytes);
  r->set_memory_limit_bytes(s.pool.max_buffers() * s.pool.buffer_bytes());
  r->set_overflow_policy(OverflowPolicyName(s.config.overflow));
  if (s.sampler) {
    for (const auto& c : s.sampler->configs()) *h.add_samplers() = c;
  }
  h.set_tierscope_version(TIERSCOPE_VERSION);
  h.set_page_size(static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
  return h;
}

int FindOwnText(dl_phdr_info* info, size_t, void* data) {
  auto* s = static_cast<RuntimeState*>(data);
  const auto self = reinterpret_cast<uint64_t>(&FindOwnText);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    const uint64_t start = info->dlpi_addr + ph.p_vaddr;
    if (self >= start && self < start + ph.p_memsz) {
      s->own_text_start = start;
      s->own_text_end = start + ph.p_memsz;
      return 1;
    }
  }
  return 0;
}

// Priority 103: after the generated protobuf code of this library has registered its
// descriptors (init_priority 101 and 102, a few hundred allocations), which are ours and not the
// program's; still before the program's own constructors of default priority.
__attribute__((constructor(103))) void InitRecorder() {
  Guard guard;
  std::string error;
  auto config = ParseConfig([](const char* name) { return std::getenv(name); }, &error);
  if (!config) {
    std::fprintf(stderr, "tierscope: recorder: %s; not recording\n", error.c_str());
    return;
  }
  const pid_t pid = getpid();
  const char* exec_of = std::getenv("TIERSCOPE_EXEC_OF");
  std::string output;
  if (exec_of != nullptr) {
    if (!config->follow_exec) return;  // an exec'd image we were not asked to follow
    if (std::to_string(pid) == exec_of && config->root_pid == pid) {
      // The traced process itself exec'd (a launcher, a shim): this image is the program asked
      // about and writes OUT; the image before it (OUT, complete up to its "exec" footer) moves
      // aside to OUT-stem.PID.before-exec.trace (.before-exec-2, ... after more execs).
      output = config->output;
      for (int n = 1; n < 100; ++n) {
        const std::string aside = PerProcessPath(
            config->output, pid, n == 1 ? ".before-exec" : ".before-exec-" + std::to_string(n));
        if (access(aside.c_str(), F_OK) == 0) continue;
        rename(output.c_str(), aside.c_str());
        break;
      }
    } else {
      output = PerProcessPath(config->output, pid, std::to_string(pid) == exec_of ? ".exec" : "");
    }
  } else if (config->root_pid < 0 || config->root_pid == pid) {
    output = config->output;
  } else {
    return;  // a descendant started without our exec hook (e.g. system()): not followed
  }

  RuntimeState& s = *(g_state = new (g_state_storage) RuntimeState());
  s.config = *config;
  s.pid = pid;
  s.output = output;
  if (!s.pool.Init(s.config.buffer_bytes, s.config.memory_limit_bytes) ||
      !s.stacks.Init(size_t{1} << 21, size_t{1} << 24) || !s.sampled.Init(size_t{1} << 20) ||
      !s.rules.Init() ||
      (s.thread_slab = static_cast<ThreadState*>(RawMap(kMaxThreadStates * sizeof(ThreadState)))) ==
          nullptr) {
    std::fprintf(stderr, "tierscope: recorder: cannot map its memory; not recording\n");
    return;
  }
  dl_iterate_phdr(FindOwnText, &s);
  s.clock.Init();
  if (!CreateThreadKey(s)) {
    std::fprintf(stderr, "tierscope: recorder: no thread key left; not recording\n");
    return;
  }
  // Access sampling (recorder/sampling/): TIERSCOPE_SAMPLER and friends; allocation tracing
  // goes on without it when no source opens. The header (MakeHeader) lists its configs().
  // The first image of the root process: not its children, nor the images it execs (a launcher
  // script's interpreter, then the program).
  s.sampler = OpenSampleSource(false, config->root_pid == pid && exec_of == nullptr);

  ThreadState* main_thread = NewThreadState(0);
  if (main_thread == nullptr) return;
  OnThreadCreated(main_thread);
  if (!StartWriter(s)) return;
  WatchProcess();
  g_alloc_sampling = s.config.alloc_sample_bytes > 0;
  g_sampling_min_size = s.config.min_size;
  if (Filtering(s.config)) g_release_filter = &s.sampled;
  g_recording.store(true, std::memory_order_release);
}

__attribute__((destructor(101))) void ShutdownRecorder() {
  Finish("exit", g_state != nullptr ? g_state->exit_status.load() : 0, false);
}

}  // namespace

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

bool StartWriter(RuntimeState& s) {
  try {
    s.writer = new Writer(&s, s.output, MakeHeader(s));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tierscope: recorder: %s; not recording\n", e.what());
    return false;
  }
  s.pending_maps.push_back(SnapshotModules(NowNs()));
  if (!s.writer->Start()) {
    std::fprintf(stderr, "tierscope: recorder: cannot start the writer thread; not recording\n");
    return false;
  }
  return true;
}

}  // namespace tierscope::recorder
