#include "config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <utility>

namespace tierscope::recorder {
namespace {

// Strict unsigned parse: digits only, no sign, no trailing text, no overflow.
bool ParseU64(const char* text, uint64_t* out) {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

struct Parser {
  const EnvLookup& env;
  std::string* error;
  bool ok = true;

  void Fail(const char* name, const char* value, const std::string& accepts) {
    if (!ok) return;
    ok = false;
    *error = std::string(name) + "='" + value + "': expected " + accepts;
  }
  void U64(const char* name, uint64_t lo, uint64_t hi, uint64_t* out) {
    const char* v = env(name);
    if (v == nullptr) return;
    uint64_t x;
    if (!ParseU64(v, &x) || x < lo || x > hi) {
      Fail(name, v, "an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
      return;
    }
    *out = x;
  }
  void Bool(const char* name, bool* out) {
    const char* v = env(name);
    if (v == nullptr) return;
    const std::string s = v;
    if (s == "1" || s == "yes" || s == "true") {
      *out = true;
    } else if (s == "0" || s == "no" || s == "false") {
      *out = false;
    } else {
      Fail(name, v, "1 or 0");
    }
  }
  // One of a few names; `accepts` lists them for the error.
  template <typename E>
  void OneOf(const char* name, std::initializer_list<std::pair<const char*, E>> choices,
             const char* accepts, E* out) {
    const char* v = env(name);
    if (v == nullptr) return;
    for (const auto& [word, value] : choices) {
      if (std::strcmp(v, word) == 0) {
        *out = value;
        return;
      }
    }
    Fail(name, v, accepts);
  }
};

}  // namespace

const char* OverflowPolicyName(OverflowPolicy policy) {
  return policy == OverflowPolicy::kBlock ? "block" : "drop";
}

const char* UnwindModeName(UnwindMode mode) {
  return mode == UnwindMode::kAuto        ? "auto"
         : mode == UnwindMode::kLibunwind ? "libunwind"
                                          : "check";
}

std::optional<Config> ParseConfig(const EnvLookup& env, std::string* error) {
  Config c;
  Parser p{env, error};
  if (const char* v = env("TIERSCOPE_OUTPUT")) {
    if (*v == '\0') p.Fail("TIERSCOPE_OUTPUT", v, "a file path");
    c.output = v;
  }
  uint64_t x = c.max_stack_depth;
  p.U64("TIERSCOPE_DEPTH", 1, 256, &x);
  c.max_stack_depth = static_cast<uint32_t>(x);
  p.U64("TIERSCOPE_ALLOC_SAMPLE_BYTES", 0, uint64_t{1} << 40, &c.alloc_sample_bytes);
  p.U64("TIERSCOPE_MIN_SIZE", 0, uint64_t{1} << 40, &c.min_size);
  p.Bool("TIERSCOPE_FOLLOW_FORK", &c.follow_fork);
  p.Bool("TIERSCOPE_FOLLOW_EXEC", &c.follow_exec);
  p.U64("TIERSCOPE_BUFFER_BYTES", 4096, 64 << 20, &c.buffer_bytes);
  p.U64("TIERSCOPE_MEMORY_LIMIT", 1 << 20, uint64_t{1} << 36, &c.memory_limit_bytes);
  if (p.ok && c.memory_limit_bytes < 4 * c.buffer_bytes) {
    *error = "TIERSCOPE_MEMORY_LIMIT must hold at least 4 buffers of TIERSCOPE_BUFFER_BYTES";
    return std::nullopt;
  }
  p.OneOf("TIERSCOPE_OVERFLOW",
          {{"block", OverflowPolicy::kBlock}, {"drop", OverflowPolicy::kDrop}}, "block or drop",
          &c.overflow);
  p.OneOf("TIERSCOPE_UNWIND",
          {{"auto", UnwindMode::kAuto},
           {"libunwind", UnwindMode::kLibunwind},
           {"check", UnwindMode::kCheck}},
          "auto, libunwind or check", &c.unwind);
  x = static_cast<uint64_t>(c.compression_level);
  p.U64("TIERSCOPE_COMPRESSION", 1, 19, &x);
  c.compression_level = static_cast<int>(x);
  if (const char* v = env("TIERSCOPE_PID")) {
    uint64_t pid;
    if (!ParseU64(v, &pid) || pid == 0 || pid > (1u << 30)) {
      p.Fail("TIERSCOPE_PID", v, "a process id");
    } else {
      c.root_pid = static_cast<int64_t>(pid);
    }
  }
  if (const char* v = env("TIERSCOPE_SAMPLER")) c.sampler = v;
  if (!p.ok) return std::nullopt;
  return c;
}

std::string TraceStem(const std::string& output) {
  const std::string suffix = ".trace";
  if (output.size() >= suffix.size() &&
      output.compare(output.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return output.substr(0, output.size() - suffix.size());
  }
  return output;
}

std::string PerProcessPath(const std::string& output, int64_t pid, const std::string& tag) {
  return TraceStem(output) + "." + std::to_string(pid) + tag + ".trace";
}

}  // namespace tierscope::recorder
