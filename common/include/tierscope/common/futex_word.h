// A 32-bit word one thread sleeps on until another changes it: raw futex calls, so both sides are
// safe in a signal handler and inside an allocation hook (no lock, no allocation).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <ctime>

namespace tierscope::common {

// Sleeps up to `ns` (below 1 s) while *word == seen; a change, or a wake, ends it sooner.
inline void WaitOn(std::atomic<uint32_t>* word, uint32_t seen, long ns) {
  timespec ts{0, ns};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, seen, &ts, nullptr, 0);
}

// Changes the word and wakes every thread sleeping on it.
inline void Bump(std::atomic<uint32_t>* word) {
  word->fetch_add(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr,
          nullptr, 0);
}

}  // namespace tierscope::common
