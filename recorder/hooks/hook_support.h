// Shared bits of every hook: exported names, the reentrancy guard, lazy resolution.
#pragma once

#include "real_functions.h"
#include "runtime/runtime.h"

#define TS_EXPORT extern "C" __attribute__((visibility("default")))

namespace tierscope::recorder {

// Raises t_guard for the hook's duration; recording only when it was not raised already.
class HookScope {
 public:
  HookScope() : outermost_(t_guard++ == 0) {}
  ~HookScope() { --t_guard; }
  bool recording() const { return outermost_ && g_recording.load(std::memory_order_relaxed); }

 private:
  bool outermost_;
};

// True when `fn` (a member of `real`) is usable; resolves on first use.
template <typename F>
inline bool Ready(F fn) {
  return __builtin_expect(fn != nullptr, 1) || ResolveRealFunctions();
}

}  // namespace tierscope::recorder
