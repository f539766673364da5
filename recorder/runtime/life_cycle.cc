// Threads and the process around the recording: a thread's state from its start to its exit,
// fork (the child records on its own), fatal signals, exit and exec, dlopen.
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "module_maps.h"
#include "runtime.h"
#include "runtime_state.h"
#include "writer.h"

namespace tierscope::recorder {
namespace {

void ThreadKeyDestructor(void* p) {
  auto* t = static_cast<ThreadState*>(p);
  Guard guard;
  // Run in the last round, after other keys' destructors (which may still free memory).
  if (++t->exit_rounds < PTHREAD_DESTRUCTOR_ITERATIONS - 1) {
    pthread_setspecific(g_state->thread_key, t);
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
  if (sampled) s.sampler = OpenSampleSource(true, false);
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

}  // namespace

uint32_t SysTid() {
  return static_cast<uint32_t>(syscall(SYS_gettid));
}

bool CreateThreadKey(RuntimeState& s) {
  return pthread_key_create(&s.thread_key, ThreadKeyDestructor) == 0;
}

void WatchProcess() {
  pthread_atfork(ForkPrepare, ForkParent, ForkChild);
  InstallSignalHandlers();
}

uint32_t CurrentTid() {
  return t_state != nullptr ? t_state->tid : SysTid();
}

void MarkInternalThread() {
  t_guard = 1;
}

ThreadState* NewThreadState(uint32_t creator_tid) {
  if (g_state == nullptr) return nullptr;
  const size_t i = g_state->thread_slab_used.fetch_add(1, std::memory_order_relaxed);
  if (i >= kMaxThreadStates) {
    g_state->threads_unrecorded.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  ThreadState* t = new (&g_state->thread_slab[i]) ThreadState();
  t->creator_tid = creator_tid;
  return t;
}

void OnThreadCreated(ThreadState* t) {
  RuntimeState& s = *g_state;
  t->tid = SysTid();
  t->start_ns = NowNs();
  // Its stack, so that the analyzer tells samples on it from samples in the heap's mappings.
  // pthread_getattr_np may allocate (the affinity mask): the guard keeps that out of the trace.
  t_guard++;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      t->stack_lo = reinterpret_cast<uintptr_t>(addr);
      t->stack_hi = t->stack_lo + size;
    }
    pthread_attr_destroy(&attr);
  }
  t_guard--;
  t->rng = (static_cast<uint64_t>(t->tid) << 32) ^ t->start_ns;
  if (s.config.alloc_sample_bytes > 0) {
    t_sample_countdown = NextSampleDistance(t, s.config.alloc_sample_bytes);
  }
  t_state = t;
  pthread_setspecific(g_state->thread_key, t);
  ThreadState* head = s.threads.load(std::memory_order_relaxed);
  do {
    t->next_all = head;
  } while (!s.threads.compare_exchange_weak(head, t, std::memory_order_release));
  if (s.sampler) s.sampler->OnThreadStart(static_cast<pid_t>(t->tid));
}

void OnModulesChanged() {
  if (!g_recording.load()) return;
  // After dlclose an address may be another module's: its rules are read again.
  g_state->rules.Clear();
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
