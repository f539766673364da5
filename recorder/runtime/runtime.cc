// The recorder runtime: start-up from the environment, the per-event hot path, thread and
// process life cycle (exit, fatal signals, fork), and the sink the access samplers feed.
#define UNW_LOCAL_ONLY
#include "runtime.h"

#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "address_set.h"
#include "module_maps.h"
#include "runtime_state.h"
#include "sampling/sampling_options.h"
#include "tierscope/formats/sample_columns.h"
#include "writer.h"

#ifndef TIERSCOPE_VERSION
#define TIERSCOPE_VERSION "unknown"
#endif

namespace tierscope::recorder {

__thread int t_guard __attribute__((tls_model("initial-exec"))) = 0;
static __thread ThreadState* t_state __attribute__((tls_model("initial-exec"))) = nullptr;
std::atomic<bool> g_recording{false};

namespace {

constexpr uint32_t kMaxCapture = 256 + 8;  // max depth + our own frames
constexpr size_t kMaxThreadStates = 1 << 16;

RuntimeState* g_state = nullptr;
alignas(RuntimeState) unsigned char g_state_storage[sizeof(RuntimeState)];
ThreadState* g_thread_slab = nullptr;
std::atomic<size_t> g_thread_slab_used{0};
pthread_key_t g_thread_key;
AddressSet g_sampled;  // addresses of sampled blocks (sampling / min-size modes)

uint32_t SysTid() {
  return static_cast<uint32_t>(syscall(SYS_gettid));
}

struct Guard {
  Guard() { ++t_guard; }
  ~Guard() { --t_guard; }
};

// Exponential with mean `mean` (tcmalloc's sampler): each byte sampled with probability 1/mean.
int64_t NextSampleDistance(ThreadState* t, uint64_t mean) {
  t->rng = t->rng * 6364136223846793005ULL + 1442695040888963407ULL;
  const double u = (static_cast<double>(t->rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return static_cast<int64_t>(-std::log(u) * static_cast<double>(mean)) + 1;
}

ThreadState* AttachCurrentThread() {
  ThreadState* t = NewThreadState(0);
  if (t != nullptr) OnThreadCreated(t);
  return t;
}

EventBuffer* AcquireBuffer(ThreadState* t) {
  RuntimeState& s = *g_state;
  EventBuffer* b = s.pool.Acquire(t->tid);
  if (b != nullptr || s.config.overflow == OverflowPolicy::kDrop) return b;
  // Policy "block": wait for the writer to return a buffer, as long as it runs and has some in
  // hand. With none queued, live threads hold them all (they may be waiting for this one, e.g.
  // at a barrier): this thread gets one beyond the limit rather than wait for ever.
  while (b == nullptr && s.writer != nullptr && s.writer->running() &&
         g_recording.load(std::memory_order_relaxed)) {
    if (s.pool.queued() == 0 && (b = s.pool.AcquireBeyondLimit(t->tid)) != nullptr) break;
    timespec ts{0, 200'000};
    nanosleep(&ts, nullptr);
    b = s.pool.Acquire(t->tid);
  }
  return b;
}

void Append(ThreadState* t, const RawEvent& e) {
  EventBuffer* b = t->buffer;
  if (b == nullptr) {
    b = t->buffer = AcquireBuffer(t);
    if (b == nullptr) {
      t->dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  const uint32_t n = b->count.load(std::memory_order_relaxed);
  b->events[n] = e;
  b->count.store(n + 1, std::memory_order_release);
  if (n + 1 == b->capacity) {
    g_state->pool.PushFull(b);
    t->buffer = AcquireBuffer(t);
  }
}

inline ThreadState* CurrentState() {
  ThreadState* t = t_state;
  if (__builtin_expect(t == nullptr, 0)) t = AttachCurrentThread();
  return t;
}

// Innermost frame first: two different stacks nearly always differ there already.
inline bool SameFrames(const uint64_t* a, const uint64_t* b, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Always inlined into RecordAlloc: every frame of ours below the program's costs libunwind one
// more step (~75 instructions under callgrind), so this one is not a frame of its own.
__attribute__((always_inline)) inline uint32_t CaptureStack(ThreadState* t) {
  RuntimeState& s = *g_state;
  void* raw[kMaxCapture];
  const uint32_t depth = s.config.max_stack_depth;
  int n = unw_backtrace(raw, static_cast<int>(depth + 8));
  int skip = 0;
  while (skip < n && reinterpret_cast<uint64_t>(raw[skip]) >= s.own_text_start &&
         reinterpret_cast<uint64_t>(raw[skip]) < s.own_text_end) {
    ++skip;
  }
  const int kept = n - skip;
  if (kept <= 0) {
    t->unwind_failures.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  const bool truncated = static_cast<uint32_t>(kept) > depth;
  const uint32_t used = truncated ? depth : static_cast<uint32_t>(kept);
  const auto* frames = reinterpret_cast<const uint64_t*>(raw + skip);
  const uint32_t key = used | (truncated ? 1u << 31 : 0);
  if (key == t->last_stack_key && SameFrames(frames, t->last_stack, used)) return t->last_stack_id;
  const uint32_t id = s.stacks.Intern(frames, used, truncated);
  if (id != 0 && used <= ThreadState::kLastStackFrames) {
    std::memcpy(t->last_stack, frames, used * sizeof(uint64_t));
    t->last_stack_key = key;
    t->last_stack_id = id;
  }
  return id;
}

void ThreadKeyDestructor(void* p) {
  auto* t = static_cast<ThreadState*>(p);
  Guard guard;
  // Run in the last round, after other keys' destructors (which may still free memory).
  if (++t->exit_rounds < PTHREAD_DESTRUCTOR_ITERATIONS - 1) {
    pthread_setspecific(g_thread_key, t);
    return;
  }
  RuntimeState& s = *g_state;
  if (s.sampler) s.sampler->OnThreadExit(static_cast<pid_t>(t->tid));
  prctl(PR_GET_NAME, t->name, 0, 0, 0);
  if (t->buffer != nullptr && t->buffer->count.load(std::memory_order_relaxed) > 0) {
    s.pool.PushFull(t->buffer);
    t->buffer = nullptr;
  }
  t->end_ns.store(NowNs(), std::memory_order_release);
}

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

// "out.trace" -> "out.PID.trace" (also without the .trace suffix: "out" -> "out.PID.trace").
std::string PerProcessPath(const std::string& output, pid_t pid, const char* tag = "") {
  std::string base = output;
  const std::string suffix = ".trace";
  if (base.size() >= suffix.size() &&
      base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0) {
    base.resize(base.size() - suffix.size());
  }
  return base + "." + std::to_string(pid) + tag + ".trace";
}

// Opens the trace and starts the writer; false (after one line on stderr) when it cannot.
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

std::unique_ptr<SampleSource> OpenSamplerInChild();  // below, next to the sink

void ForkPrepare() {
  g_state->side_mutex.lock();
}
void ForkParent() {
  g_state->side_mutex.unlock();
}

void ForkChild() {
  RuntimeState& s = *g_state;
  new (&s.side_mutex) std::mutex();  // the parent's writer may have held it; this copy is ours
  if (!g_recording.load() || s.finished.load() || !s.config.follow_fork) {
    g_recording = false;
    return;
  }
  Guard guard;
  // Only this thread exists here; the buffers hold the parent's events, which are not ours.
  // A thread of the parent may have been inserting a stack: nothing here may wait for it.
  s.stacks.AfterForkInChild();
  for (ThreadState* t = s.threads.load(); t != nullptr; t = t->next_all) {
    if (t != t_state) t->dead = true;
  }
  for (EventBuffer* b = s.pool.TakeAllFull(); b != nullptr;) {
    EventBuffer* next = b->next_full;
    s.pool.Release(b);
    b = next;
  }
  if (t_state != nullptr) {
    t_state->tid = SysTid();
    t_state->reported = 0;
    if (t_state->buffer != nullptr) {
      t_state->buffer->count.store(0);
      t_state->buffer->tid = t_state->tid;
    }
  }
  s.pid = getpid();
  s.output = PerProcessPath(s.config.output, s.pid);
  s.pending_maps.clear();
  s.pending_samples.clear();
  s.sampler_counters.Clear();
  s.writer = nullptr;  // the parent's writer thread does not exist here; its object is left
  // The parent's sources hold its perf fds and its drain thread is not here: release them and
  // open the child's own (quietly: the parent said what it uses, or why not, once).
  const bool sampled = s.sampler != nullptr;
  s.sampler.reset();
  if (sampled) s.sampler = OpenSamplerInChild();
  if (!StartWriter(s)) {
    g_recording = false;
    return;
  }
  if (s.sampler && t_state != nullptr) s.sampler->OnThreadStart(static_cast<pid_t>(t_state->tid));
}

void FatalSignalHandler(int sig) {
  char reason[32];
  std::snprintf(reason, sizeof reason, "signal SIG%s", sigabbrev_np(sig));
  Finish(reason, 128 + sig, true);
  signal(sig, SIG_DFL);
  raise(sig);
}

void InstallSignalHandlers() {
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
    struct sigaction sa {};
    sa.sa_handler = FatalSignalHandler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(sig, &sa, nullptr);
  }
}

class RuntimeSink : public SampleSink {
 public:
  void OnSamples(uint32_t tid, trace::SamplerKind source, const formats::AccessSample* samples,
                 size_t count) override {
    trace::SampleBatch batch;
    batch.set_tid(tid);
    batch.set_source(source);
    bool with_data_source = false;
    for (size_t i = 0; i < count; ++i) with_data_source |= samples[i].data_source != 0;
    formats::SampleBatchBuilder builder(&batch, with_data_source);
    for (size_t i = 0; i < count; ++i) builder.Add(samples[i]);
    builder.Finish();
    std::lock_guard lock(g_state->side_mutex);
    g_state->pending_samples.push_back(std::move(batch));
    auto* c = &g_state->sampler_counters;
    c->set_samples(c->samples() + count);
  }
  void AddCounters(const trace::Counters& delta) override {
    std::lock_guard lock(g_state->side_mutex);
    auto* c = &g_state->sampler_counters;
    c->set_samples_lost(c->samples_lost() + delta.samples_lost());
    c->set_throttle_events(c->throttle_events() + delta.throttle_events());
    c->set_samples_undecoded(c->samples_undecoded() + delta.samples_undecoded());
    for (const auto& [k, v] : delta.undecoded_by_reason())
      (*c->mutable_undecoded_by_reason())[k] += v;
    for (const auto& [k, v] : delta.sampler_errors()) (*c->mutable_sampler_errors())[k] += v;
  }
};
// Constructed (and its destructor registered with atexit) before recording starts.
RuntimeSink g_sink __attribute__((init_priority(102)));

std::unique_ptr<SampleSource> OpenSamplerInChild() {
  SamplingOptions sampling;
  std::string why;
  if (!SamplingOptionsFromEnv(&sampling, &why) || sampling.samplers.empty()) return nullptr;
  return CreateSampleSource(sampling, &g_sink, &why, true);
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
        const std::string aside =
            PerProcessPath(config->output, pid,
                           n == 1 ? ".before-exec" : (".before-exec-" + std::to_string(n)).c_str());
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
      !s.stacks.Init(size_t{1} << 21, size_t{1} << 24) || !g_sampled.Init(size_t{1} << 20) ||
      (g_thread_slab = static_cast<ThreadState*>(RawMap(kMaxThreadStates * sizeof(ThreadState)))) ==
          nullptr) {
    std::fprintf(stderr, "tierscope: recorder: cannot map its memory; not recording\n");
    return;
  }
  dl_iterate_phdr(FindOwnText, &s);
  s.clock.Init();
  if (pthread_key_create(&g_thread_key, ThreadKeyDestructor) != 0) {
    std::fprintf(stderr, "tierscope: recorder: no thread key left; not recording\n");
    return;
  }
  // Access sampling (recorder/sampling/): TIERSCOPE_SAMPLER and friends; allocation tracing
  // goes on without it when no source opens. The header (MakeHeader) lists its configs().
  s.sampler = nullptr;
  {
    SamplingOptions sampling;
    std::string why;
    if (!SamplingOptionsFromEnv(&sampling, &why)) {
      std::fprintf(stderr, "tierscope: recorder: %s; access sampling off\n", why.c_str());
    } else if (!sampling.samplers.empty()) {
      s.sampler = CreateSampleSource(sampling, &g_sink, &why);
      if (s.sampler == nullptr) {
        std::fprintf(stderr, "tierscope: recorder: %s; recording allocations only\n", why.c_str());
      }
    }
  }

  ThreadState* main_thread = NewThreadState(0);
  if (main_thread == nullptr) return;
  OnThreadCreated(main_thread);
  if (!StartWriter(s)) return;
  pthread_atfork(ForkPrepare, ForkParent, ForkChild);
  InstallSignalHandlers();
  g_recording.store(true, std::memory_order_release);
}

__attribute__((destructor(101))) void ShutdownRecorder() {
  Finish("exit", g_state != nullptr ? g_state->exit_status.load() : 0, false);
}

}  // namespace

RuntimeState& State() {
  return *g_state;
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

uint32_t CurrentTid() {
  return t_state != nullptr ? t_state->tid : SysTid();
}

void MarkInternalThread() {
  t_guard = 1;
}

ThreadState* NewThreadState(uint32_t creator_tid) {
  if (g_state == nullptr) return nullptr;
  const size_t i = g_thread_slab_used.fetch_add(1, std::memory_order_relaxed);
  if (i >= kMaxThreadStates) {
    g_state->threads_unrecorded.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  ThreadState* t = new (&g_thread_slab[i]) ThreadState();
  t->creator_tid = creator_tid;
  return t;
}

void OnThreadCreated(ThreadState* t) {
  RuntimeState& s = *g_state;
  t->tid = SysTid();
  t->start_ns = NowNs();
  t->rng = (static_cast<uint64_t>(t->tid) << 32) ^ t->start_ns;
  if (s.config.alloc_sample_bytes > 0) {
    t->sample_countdown = NextSampleDistance(t, s.config.alloc_sample_bytes);
  }
  t_state = t;
  pthread_setspecific(g_thread_key, t);
  ThreadState* head = s.threads.load(std::memory_order_relaxed);
  do {
    t->next_all = head;
  } while (!s.threads.compare_exchange_weak(head, t, std::memory_order_release));
  if (s.sampler) s.sampler->OnThreadStart(static_cast<pid_t>(t->tid));
}

void RecordAlloc(trace::EventKind kind, const void* address, size_t size) {
  if (!g_recording.load(std::memory_order_relaxed) || address == nullptr) return;
  RuntimeState& s = *g_state;
  ThreadState* t = CurrentState();
  if (t == nullptr) {
    s.dropped_without_thread.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (size < s.config.min_size) return;
  if (s.config.alloc_sample_bytes > 0) {
    t->sample_countdown -= static_cast<int64_t>(size);
    if (t->sample_countdown > 0) return;
    while (t->sample_countdown <= 0) {
      t->sample_countdown += NextSampleDistance(t, s.config.alloc_sample_bytes);
    }
  }
  if (s.config.alloc_sample_bytes > 0 || s.config.min_size > 0) {
    g_sampled.Insert(reinterpret_cast<uint64_t>(address));
  }
  RawEvent e;
  e.time_ns = s.clock.Ticks();
  e.address = reinterpret_cast<uint64_t>(address);
  e.size = size;
  e.stack_id = CaptureStack(t);
  e.kind = kind;
  Append(t, e);
}

void RecordRelease(trace::EventKind kind, const void* address, size_t size) {
  if (!g_recording.load(std::memory_order_relaxed) || address == nullptr) return;
  RuntimeState& s = *g_state;
  const bool filtered = s.config.alloc_sample_bytes > 0 || s.config.min_size > 0;
  // In filtering modes only the blocks we recorded get their release recorded. munmap may cover
  // part of a mapping, so it is always kept.
  if (filtered && kind != trace::MUNMAP && !g_sampled.Erase(reinterpret_cast<uint64_t>(address))) {
    return;
  }
  ThreadState* t = CurrentState();
  if (t == nullptr) {
    s.dropped_without_thread.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  RawEvent e;
  e.time_ns = s.clock.Ticks();
  e.address = reinterpret_cast<uint64_t>(address);
  e.size = size;
  e.stack_id = 0;
  e.kind = kind;
  Append(t, e);
}

void OnModulesChanged() {
  if (!g_recording.load()) return;
  trace::ModuleMap map = SnapshotModules(NowNs());
  std::lock_guard lock(g_state->side_mutex);
  g_state->pending_maps.push_back(std::move(map));
}

void Finish(const char* reason, int exit_status, bool from_signal) {
  if (g_state == nullptr || !IsRootProcess()) return;
  RuntimeState& s = *g_state;
  if (s.finished.exchange(true)) return;
  Guard guard;
  // Never an unbounded wait here: a crashed thread (this one, from a signal handler or an exit
  // in it) may hold a lock the sampler's drain thread or the writer needs, such as malloc's.
  if (s.sampler) s.sampler->StopWithin(from_signal ? 1'000'000'000 : 5'000'000'000);
  g_recording.store(false, std::memory_order_release);
  if (t_state != nullptr) prctl(PR_GET_NAME, t_state->name, 0, 0, 0);
  if (s.writer != nullptr && s.writer->running())
    s.writer->Finish(reason, exit_status, from_signal);
}

void BeforeExec() {
  if (g_state == nullptr || !IsRootProcess() || g_state->finished.load() ||
      !g_recording.load(std::memory_order_acquire)) {
    return;
  }
  RuntimeState& s = *g_state;
  Guard guard;
  if (t_state != nullptr) prctl(PR_GET_NAME, t_state->name, 0, 0, 0);
  // Not Finish: if the exec fails, the program goes on and so does the trace.
  if (s.writer != nullptr && s.writer->running()) s.writer->Checkpoint("exec");
}

bool FollowExec() {
  return g_state != nullptr && g_state->config.follow_exec;
}

bool IsRootProcess() {
  return g_state != nullptr && getpid() == g_state->pid;
}

void SetExitStatus(int status) {
  if (g_state != nullptr) g_state->exit_status.store(status);
}

}  // namespace tierscope::recorder
