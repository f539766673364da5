// The recorder's settings, read from TIERSCOPE_* environment variables (recorder/README.md).
// `tierscope record` validates the same variables with the same parser before it starts the
// program, so a bad value never reaches a running program.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace tierscope::recorder {

enum class OverflowPolicy { kBlock, kDrop };

// How stacks are walked: kAuto by the unwind tables' rules (common/call_frame_walk.h), libunwind
// for the stacks they do not describe; kLibunwind always unw_backtrace; kCheck both at every
// allocation, libunwind's stack kept, the differences counted (Counters.unwind_mismatches).
enum class UnwindMode { kAuto, kLibunwind, kCheck };

struct Config {
  std::string output = "tierscope.trace";  // TIERSCOPE_OUTPUT
  uint32_t max_stack_depth = 32;           // TIERSCOPE_DEPTH, 1..256
  uint64_t alloc_sample_bytes = 0;         // TIERSCOPE_ALLOC_SAMPLE_BYTES, 0 = every allocation
  uint64_t min_size = 0;                   // TIERSCOPE_MIN_SIZE
  bool follow_fork = true;                 // TIERSCOPE_FOLLOW_FORK (1/0)
  bool follow_exec = false;                // TIERSCOPE_FOLLOW_EXEC (1/0)
  uint64_t buffer_bytes = 64 << 10;        // TIERSCOPE_BUFFER_BYTES, per-thread event buffer
  uint64_t memory_limit_bytes = 64 << 20;  // TIERSCOPE_MEMORY_LIMIT, all buffers together
  OverflowPolicy overflow = OverflowPolicy::kBlock;  // TIERSCOPE_OVERFLOW block|drop
  UnwindMode unwind = UnwindMode::kAuto;             // TIERSCOPE_UNWIND auto|libunwind|check
  // Level 1: the writer shares the program's cores; level 3 saved ~0.7 % of the bytes on the
  // stress example for ~3.5 % more instructions of the whole run (docs/benchmarks.md, Recorder).
  int compression_level = 1;  // TIERSCOPE_COMPRESSION 1..19
  int64_t root_pid = -1;      // TIERSCOPE_PID: the process that writes `output` itself (-1: any)
  std::string sampler;        // TIERSCOPE_SAMPLER, read by recorder/sampling/
};

// Looks a variable up; returns null when unset. Injected so tests need no real environment.
using EnvLookup = std::function<const char*(const char*)>;

// Fills a Config from the environment. On a bad value returns nullopt and one line in *error
// naming the variable and what it accepts.
std::optional<Config> ParseConfig(const EnvLookup& env, std::string* error);

const char* OverflowPolicyName(OverflowPolicy policy);
const char* UnwindModeName(UnwindMode mode);

// The filtering modes (--alloc-sample-bytes, --min-size): only some blocks are recorded, and only
// their releases.
inline bool Filtering(const Config& c) {
  return c.alloc_sample_bytes > 0 || c.min_size > 0;
}

// OUTPUT without ".trace": what every per-process trace's name starts with.
std::string TraceStem(const std::string& output);
// The trace of a process other than the root (a forked child, an exec'd image): "out.trace" ->
// "out.PID<tag>.trace" (also without the .trace suffix: "out" -> "out.PID<tag>.trace").
std::string PerProcessPath(const std::string& output, int64_t pid, const std::string& tag = "");

}  // namespace tierscope::recorder
