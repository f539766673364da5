// The measured cost of one timer sample (sampling/timer_cost.h), kept per boot in the user's cache
// directory so that `tierscope record` pays the ~60 ms measurement once per boot, not per run:
// on a two-second program it would otherwise cost as much as the sampling it saves.
#pragma once

#include <cstdint>
#include <string>

namespace tierscope::recorder {

// $XDG_CACHE_HOME/tierscope/timer-sample-cost, else $HOME/.cache/...; "" when neither is set.
std::string TimerCostCachePath();

// The cost kept for this boot (/proc/sys/kernel/random/boot_id), or a fresh measurement written
// back (best effort: an unwritable cache only costs the next run a measurement). False with one
// line in *error when the timer cannot be opened.
bool TimerSampleCostForThisBoot(const std::string& cache_path, uint64_t* cost_ns,
                                std::string* error);

}  // namespace tierscope::recorder
