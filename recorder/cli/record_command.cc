// `tierscope record [options] -- PROGRAM [ARGS]`: runs PROGRAM with libtierscope-recorder.so
// preloaded, configured through TIERSCOPE_* variables, and summarizes the trace at the end.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "runtime/config.h"
#include "sampling/sampler_catalogue.h"
#include "sampling/sampling_options.h"
#include "tierscope/cli/subcommand.h"
#include "timer_cost_cache.h"
#include "trace_summary.h"

namespace tierscope::cli {
namespace {

std::string SelfDir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

// TIERSCOPE_RECORDER_LIB, else <bindir>/../lib/libtierscope-recorder.so.
std::string RecorderLibrary() {
  if (const char* env = std::getenv("TIERSCOPE_RECORDER_LIB")) {
    if (::access(env, R_OK) != 0) {
      throw UsageError(std::string("TIERSCOPE_RECORDER_LIB=") + env + ": " + std::strerror(errno));
    }
    return env;
  }
  const std::string lib = SelfDir() + "/../lib/libtierscope-recorder.so";
  if (::access(lib.c_str(), R_OK) != 0) {
    throw UsageError(lib + ": recorder library not found (set TIERSCOPE_RECORDER_LIB)");
  }
  char resolved[4096];
  return realpath(lib.c_str(), resolved) != nullptr ? std::string(resolved) : lib;
}

class RecordCommand : public Subcommand {
 public:
  const char* name() const override { return "record"; }
  const char* summary() const override {
    return "run a program and record its allocations with call stacks into a trace";
  }

  void Configure(CLI::App& app) override {
    app.add_option("-o,--output", output_, "trace file to write")->capture_default_str();
    app.add_option("--depth", depth_, "max call stack depth, 1..256 (default 32)");
    app.add_option("--alloc-sample-bytes", sample_bytes_,
                   "record a size-weighted sample: each byte with probability 1/N (0: all)");
    app.add_option("--min-size", min_size_, "do not record allocations smaller than this");
    app.add_flag("--no-follow-fork", no_follow_fork_,
                 "leave forked children untraced (default: each writes OUTPUT-stem.PID.trace)");
    app.add_flag("--follow-exec", follow_exec_,
                 "trace the programs this one execs (the default; see --no-follow-exec)");
    app.add_flag("--no-follow-exec", no_follow_exec_,
                 "do not trace exec'd programs (default: the program's own exec writes OUTPUT, "
                 "what ran before it OUTPUT-stem.PID.before-exec.trace)");
    app.add_option("--buffer-bytes", buffer_bytes_, "per-thread event buffer (default 65536)");
    app.add_option("--memory-limit", memory_limit_,
                   "bound on buffered events in bytes (default 67108864)");
    app.add_option("--overflow", overflow_,
                   "when that bound is reached: block (wait for the writer) or drop (count)");
    app.add_option("--unwind", unwind_,
                   "stack walk: auto (default: by the unwind tables, libunwind where they say too "
                   "little), libunwind, or check (both at every allocation, libunwind's kept, "
                   "differences counted in the summary)");
    app.add_option("--sampler", sampler_,
                   "access sampling: auto, pebs, ibs, timer, faults or none; faults combines "
                   "with one other, e.g. timer+faults (default auto: PEBS, else IBS, else "
                   "timer)");
    app.add_option("--sample-period", sample_period_,
                   "sampling period: timer in time (1ms, 250us), PEBS/IBS in events");
    app.add_option("--event", sample_event_,
                   "PEBS events as libpfm4 strings, comma-separated (default per CPU model)");
    app.add_option("--sample-budget", sample_budget_,
                   "CPU share for sampling, e.g. 3%: the timer's default period is stretched to "
                   "fit what its samples are measured to cost here, and the drain thread's "
                   "adaptive period kept within it (0: fixed period)");
    app.add_flag("-q,--quiet", quiet_, "no summary at the end");
    app.add_option("command", command_, "PROGRAM [ARGS...] (after --)")->required();
  }

  int Run() override {
    std::map<std::string, std::string> env;
    env["TIERSCOPE_OUTPUT"] = output_;
    if (!depth_.empty()) env["TIERSCOPE_DEPTH"] = depth_;
    if (!sample_bytes_.empty()) env["TIERSCOPE_ALLOC_SAMPLE_BYTES"] = sample_bytes_;
    if (!min_size_.empty()) env["TIERSCOPE_MIN_SIZE"] = min_size_;
    if (no_follow_fork_) env["TIERSCOPE_FOLLOW_FORK"] = "0";
    if (follow_exec_ && no_follow_exec_) {
      throw UsageError("--follow-exec and --no-follow-exec: choose one");
    }
    env["TIERSCOPE_FOLLOW_EXEC"] = no_follow_exec_ ? "0" : "1";
    if (!buffer_bytes_.empty()) env["TIERSCOPE_BUFFER_BYTES"] = buffer_bytes_;
    if (!memory_limit_.empty()) env["TIERSCOPE_MEMORY_LIMIT"] = memory_limit_;
    if (!overflow_.empty()) env["TIERSCOPE_OVERFLOW"] = overflow_;
    if (!unwind_.empty()) env["TIERSCOPE_UNWIND"] = unwind_;
    if (!sampler_.empty()) env["TIERSCOPE_SAMPLER"] = sampler_;
    if (!sample_period_.empty()) env["TIERSCOPE_SAMPLE_PERIOD"] = sample_period_;
    if (!sample_event_.empty()) env["TIERSCOPE_SAMPLE_EVENT"] = sample_event_;
    if (!sample_budget_.empty()) env["TIERSCOPE_SAMPLE_BUDGET"] = sample_budget_;
    CheckSamplingFlags();
    // Validate with the library's own parser (flags win over inherited variables).
    std::string error;
    auto lookup = [&env](const char* name) -> const char* {
      auto it = env.find(name);
      return it != env.end() ? it->second.c_str() : std::getenv(name);
    };
    if (!recorder::ParseConfig(lookup, &error)) throw UsageError(FlagName(error));
    // The sampling variables the program inherits: inside it a bad one only turns sampling off.
    recorder::SamplingOptions sampling;
    if (!recorder::SamplingOptionsFrom(lookup, &sampling, &error)) throw UsageError(error);
    RequireWritable(output_);
    MeasureTimerCostIfItSetsThePeriod(sampling, &env);
    const std::string lib = RecorderLibrary();

    // Less a margin: file times come from the kernel's coarse clock, up to a tick behind.
    const auto started =
        std::filesystem::file_time_type::clock::now() - std::chrono::milliseconds(100);
    const pid_t child = fork();
    if (child < 0) throw RunError(std::string("fork: ") + std::strerror(errno));
    if (child == 0) Exec(env, lib);

    // Like system(): the terminal's ^C goes to the program, which decides; we wait for it.
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    const int code = WIFEXITED(status)     ? WEXITSTATUS(status)
                     : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                           : 1;
    if (WIFEXITED(status) && code == 127 && ::access(output_.c_str(), F_OK) != 0) {
      return code;  // the program could not be started (already said by the child)
    }
    if (!quiet_) {
      // Where the image before the program's own exec went (recorder_startup.cc, InitRecorder).
      const std::string aside = recorder::PerProcessPath(output_, child, ".before-exec");
      if (::access(aside.c_str(), F_OK) == 0) {
        std::cerr << "tierscope: the program exec'd another; " << output_
                  << " is the exec'd program's trace, " << aside
                  << " what ran before (--no-follow-exec: trace only the first)\n";
      }
      struct stat st;
      if (::stat(output_.c_str(), &st) != 0) {
        std::cerr << "tierscope: no trace was written to " << output_ << "\n";
      } else {
        std::cerr << recorder::FormatSummary(output_, recorder::SummarizeTrace(output_)) << "\n";
      }
      const std::string others =
          recorder::FormatTracesBeside(output_, recorder::FindTracesBeside(output_, started));
      if (!others.empty()) std::cerr << others << "\n";
    }
    return code;
  }

 private:
  [[noreturn]] void Exec(const std::map<std::string, std::string>& env, const std::string& lib) {
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    setenv("TIERSCOPE_PID", std::to_string(getpid()).c_str(), 1);
    const char* old = std::getenv("LD_PRELOAD");
    const std::string preload = old != nullptr && *old != '\0' ? lib + ":" + old : lib;
    setenv("LD_PRELOAD", preload.c_str(), 1);
    std::vector<char*> argv;
    for (auto& a : command_) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::cerr << "tierscope: error: cannot run '" << command_[0] << "': " << std::strerror(errno)
              << "\n";
    _exit(127);
  }

  // "TIERSCOPE_DEPTH='x': expected ..." -> "--depth 'x': expected ..." for the command line.
  static std::string FlagName(const std::string& error) {
    static const std::map<std::string, std::string> flags = {
        {"TIERSCOPE_OUTPUT", "--output"},
        {"TIERSCOPE_DEPTH", "--depth"},
        {"TIERSCOPE_ALLOC_SAMPLE_BYTES", "--alloc-sample-bytes"},
        {"TIERSCOPE_MIN_SIZE", "--min-size"},
        {"TIERSCOPE_BUFFER_BYTES", "--buffer-bytes"},
        {"TIERSCOPE_MEMORY_LIMIT", "--memory-limit"},
        {"TIERSCOPE_OVERFLOW", "--overflow"},
        {"TIERSCOPE_UNWIND", "--unwind"}};
    for (const auto& [var, flag] : flags) {
      if (error.rfind(var + "=", 0) == 0) return flag + " " + error.substr(var.size() + 1);
    }
    return error;
  }

  // When the timer sampler will run at its default period under a budget, finds what one of its
  // samples costs here (measured once per boot, timer_cost_cache.h) and hands the figure to every
  // process of the run, which stretches the period to fit the budget (timer_cost.h). `o`: the
  // sampling options the program will read.
  static void MeasureTimerCostIfItSetsThePeriod(const recorder::SamplingOptions& o,
                                                std::map<std::string, std::string>* env) {
    if (o.period != 0 || o.timer_sample_cost_ns != 0 || o.samplers.empty() || o.cpu_budget <= 0) {
      return;
    }
    std::string error;
    const auto sources = recorder::sampling::OpenableSources(
        o, [](const std::string&) {}, &error);
    const bool timer = std::any_of(sources.begin(), sources.end(), [](const auto& def) {
      return def.kind == trace::SAMPLER_TIMER;
    });
    uint64_t cost_ns = 0;
    if (!timer ||
        !recorder::TimerSampleCostForThisBoot(recorder::TimerCostCachePath(), &cost_ns, &error)) {
      return;
    }
    if (cost_ns > 0) (*env)["TIERSCOPE_TIMER_SAMPLE_COST"] = std::to_string(cost_ns);
  }

  // The library reads the same variables with the same parsers; bad values stop here, named.
  void CheckSamplingFlags() const {
    recorder::SamplingOptions o;
    std::string error;
    if ((!sampler_.empty() && !recorder::ParseSamplerSpec(sampler_, &o.samplers, &error)) ||
        (!sample_period_.empty() &&
         !recorder::ParseSamplePeriod(sample_period_, &o.period, &error)) ||
        (!sample_event_.empty() &&
         !recorder::ParseSampleEvents(sample_event_, &o.events, &error)) ||
        (!sample_budget_.empty() &&
         !recorder::ParseSampleBudget(sample_budget_, &o.cpu_budget, &error))) {
      throw UsageError(error);
    }
  }

  std::string sample_period_, sample_event_, sample_budget_;
  std::string output_ = "tierscope.trace";
  std::string depth_, sample_bytes_, min_size_, buffer_bytes_, memory_limit_, overflow_, unwind_,
      sampler_;
  bool no_follow_fork_ = false, follow_exec_ = false, no_follow_exec_ = false, quiet_ = false;
  std::vector<std::string> command_;
};

}  // namespace

std::unique_ptr<Subcommand> MakeRecordCommand() {
  return std::make_unique<RecordCommand>();
}

}  // namespace tierscope::cli
