// pthread_create: each new program thread gets its recorder state (and sampler attachment)
// before its start routine runs; threads created by the recorder itself are internal.
#include <pthread.h>

#include "hook_support.h"

using namespace tierscope::recorder;

namespace {

struct StartArgs {
  void* (*routine)(void*);
  void* arg;
  ThreadState* state;  // null: internal thread
};

void* ThreadTrampoline(void* p) {
  StartArgs args = *static_cast<StartArgs*>(p);
  {
    HookScope scope;
    real.free(p);
  }
  if (args.state == nullptr) {
    MarkInternalThread();
  } else {
    ++t_guard;
    OnThreadCreated(args.state);
    --t_guard;
  }
  return args.routine(args.arg);
}

}  // namespace

TS_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*routine)(void*),
                             void* arg) {
  if (!Ready(real.pthread_create) || real.pthread_create == nullptr) return EAGAIN;
  const bool internal = t_guard > 0;  // the writer, a sampler, ... starting a helper
  if (!g_recording.load(std::memory_order_relaxed) && !internal) {
    return real.pthread_create(thread, attr, routine, arg);
  }
  StartArgs* args;
  ThreadState* state = nullptr;
  {
    HookScope scope;
    args = static_cast<StartArgs*>(real.malloc(sizeof(StartArgs)));
    if (!internal) state = NewThreadState(CurrentTid());
  }
  if (args == nullptr || (!internal && state == nullptr)) {
    if (args != nullptr) real.free(args);
    return real.pthread_create(thread, attr, routine, arg);  // unrecorded, but it runs
  }
  *args = {routine, arg, state};
  const int r = real.pthread_create(thread, attr, ThreadTrampoline, args);
  if (r != 0) {
    HookScope scope;
    real.free(args);
  }
  return r;
}
