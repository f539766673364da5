// `tierscope run`: checks the profile and tiers, then runs the program with the placer preloaded.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tierscope/cli/subcommands.h"
#include "tierscope/formats/profile_io.h"
#include "tierscope/placer/run_config.h"
#include "tierscope/placer/stats_summary.h"

namespace tierscope::cli {
namespace {

std::string PlacerLibrary() {
  if (const char* env = getenv("TIERSCOPE_PLACER_LIB")) return env;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) throw RunError("cannot find the tierscope binary (/proc/self/exe)");
  exe[n] = '\0';
  std::string dir(exe);
  dir = dir.substr(0, dir.rfind('/'));
  return dir + "/../lib/libtierscope-placer.so";
}

// A folder of its own for the stats of every process of the run (each writes PID.json there):
// made before the program starts, read and removed after it exits.
class StatsFolder {
 public:
  StatsFolder() {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tierscope-run-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      throw RunError("cannot make a folder for the placer's stats in " + pattern + ": " +
                     std::strerror(errno));
    }
    path_ = pattern;
  }
  ~StatsFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  // What TIERSCOPE_PLACER_STATS says: every process its own file.
  std::string Pattern() const { return path_ + "/%p.json"; }
  // The stats each process wrote; a damaged file (a process killed while writing) is skipped.
  std::vector<nlohmann::json> Read() const {
    std::vector<nlohmann::json> stats;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(path_, error)) {
      std::ifstream in(entry.path());
      auto parsed = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_object()) stats.push_back(std::move(parsed));
    }
    std::sort(stats.begin(), stats.end(),
              [](const auto& a, const auto& b) { return a.value("pid", 0l) < b.value("pid", 0l); });
    return stats;
  }

 private:
  std::string path_;
};

void Say(const std::string& line) {
  const std::string text = "tierscope run: " + line + "\n";
  ssize_t ignored = write(2, text.data(), text.size());
  (void)ignored;
}

class RunCommand : public Subcommand {
 public:
  const char* name() const override { return "run"; }
  const char* summary() const override {
    return "Run a program with its allocations placed on memory tiers by a profile's plan";
  }
  void Configure(CLI::App& app) override {
    app.add_option("--profile", profile_, "Profile with a plan (tierscope analyze/plan)");
    app.add_option("--tiers", tiers_,
                   "Tiers, fastest first: 'fast=node:0,capacity=1G;slow=node:1' or @FILE "
                   "(default: the profile's, else the machine's)");
    app.add_option("--stats", stats_, "Write placement stats (JSON) here at exit");
    app.add_option("--timeline", timeline_,
                   "Append the RSS and the live bytes per tier here (JSON lines) every "
                   "--timeline-every, and at exit; other processes of the run write FILE.PID");
    app.add_option("--timeline-every", timeline_every_,
                   "Interval of --timeline: seconds, or with s/ms (default 10)");
    app.add_option("--learn", learn_,
                   "Write the allocation sites this run saw (a profile without plan) here");
    app.add_option("--depth", depth_, "Frames per site key (default: the plan's)")
        ->check(CLI::Range(1, 8));
    app.add_option("--default-tier", default_tier_,
                   "Tier for sites not in the plan (default: the plan's, else the kernel's)");
    app.add_option("--unwind", unwind_,
                   "Stack walk for keys deeper than frame 0: auto (default: by each module's "
                   "unwind tables, libunwind where they say too little), fp, libunwind, or check "
                   "(auto compared with libunwind at every allocation: stats walk_mismatches)")
        ->check(CLI::IsMember({"auto", "fp", "libunwind", "check"}));
    app.add_flag("-q,--quiet", quiet_, "No summary line at the end (a low match is still said)");
    app.add_option("command", command_, "PROGRAM [ARGS...] (after --)")->required();
    app.positionals_at_end();
  }

  int Run() override {
    std::vector<placer::TierSpec> explicit_tiers;
    std::string error;
    std::string tiers_file;
    if (!tiers_.empty()) {
      std::optional<std::vector<placer::TierSpec>> parsed;
      if (tiers_[0] == '@') {
        tiers_file = tiers_.substr(1);
        RequireReadable(tiers_file);
        parsed = placer::ReadTierFile(tiers_file, &error);
      } else {
        parsed = placer::ParseTierSpec(tiers_, &error);
      }
      if (!parsed) throw UsageError("--tiers: " + error);
      explicit_tiers = *parsed;
    }
    profile::ProfileChunk profile;
    if (!profile_.empty()) {
      RequireReadable(profile_);
      auto read = formats::ReadProfilePlan(profile_);  // the plan and tiers: no site is needed
      if (!read.ok()) throw UsageError(read.error->Message());
      profile = std::move(read.profile);
    } else if (learn_.empty() && tiers_.empty()) {
      throw UsageError("give --profile PROFILE (or --learn FILE to collect the program's sites)");
    }
    auto resolved =
        placer::ResolveTiers(&explicit_tiers, profile_.empty() ? nullptr : &profile, &error);
    if (!resolved) throw UsageError("tiers: " + error);
    if (!profile_.empty()) {
      if (auto problem = placer::CheckPlan(profile, resolved->tiers)) {
        throw UsageError(profile_ + ": " + *problem);
      }
    }
    if (!default_tier_.empty() && placer::TierIndex(resolved->tiers, default_tier_) == -2) {
      throw UsageError("--default-tier: '" + default_tier_ + "' is not one of the tiers");
    }
    if (!stats_.empty()) RequireWritable(stats_);
    if (!timeline_every_.empty()) {
      if (timeline_.empty()) throw UsageError("--timeline-every needs --timeline FILE");
      if (!placer::ParseTimelineEvery(timeline_every_, &error)) {
        throw UsageError("--timeline-every " + error);
      }
    }
    if (!timeline_.empty()) RequireWritable(timeline_);
    if (!learn_.empty()) RequireWritable(learn_);
    const std::string library = PlacerLibrary();
    if (access(library.c_str(), R_OK) != 0) {
      throw RunError("placer library " + library + ": " + std::strerror(errno));
    }

    // Absolute paths: the program (or a wrapper script in front of it) may change directory
    // before the placer in it opens them.
    auto absolute = [](const std::string& path) {
      return path.empty() ? path : std::filesystem::absolute(path).lexically_normal().string();
    };
    const std::string profile_path = absolute(profile_), stats_path = absolute(stats_),
                      learn_path = absolute(learn_), timeline_path = absolute(timeline_);
    tiers_file = absolute(tiers_file);

    std::vector<std::pair<std::string, std::string>> env;
    const char* preload = getenv("LD_PRELOAD");
    // First in LD_PRELOAD: the placer must own every allocation from process start.
    env.emplace_back("LD_PRELOAD",
                     library + (preload && *preload ? std::string(":") + preload : ""));
    if (!profile_.empty()) env.emplace_back("TIERSCOPE_PROFILE", profile_path);
    if (!tiers_file.empty()) {
      env.emplace_back("TIERSCOPE_TIERS_FILE", tiers_file);
      unsetenv("TIERSCOPE_TIERS");
    } else if (!tiers_.empty()) {
      env.emplace_back("TIERSCOPE_TIERS", tiers_);
    }
    // Every process of the program writes its own stats; the totals go to --stats at the end.
    StatsFolder stats_folder;
    env.emplace_back("TIERSCOPE_PLACER_STATS", stats_folder.Pattern());
    // Said here (or in the summary line), once, and not again by the placer in each process:
    // the machine-level warnings, and a plan left to the kernel, which the summary line explains.
    std::vector<std::string> said;
    if (!profile_.empty() && resolved->single_node) {
      Say("one memory tier on this machine: every tier maps to node " +
          placer::JoinNodes(resolved->tiers[0].nodes, ","));
      said.push_back(placer::kOneTierKey);
    }
    left_to_kernel_ = !profile_.empty() && placer::PlacesNothing(profile.plan(), !learn_.empty());
    if (left_to_kernel_) said.push_back(placer::kLeftToKernelKey);
    if (!said.empty()) {
      std::string keys;
      for (const std::string& key : said) keys += (keys.empty() ? "" : ",") + key;
      env.emplace_back(placer::kSaidVariable, keys);
    }
    if (!learn_.empty()) env.emplace_back("TIERSCOPE_PLACER_SITES", learn_path);
    if (!timeline_.empty()) {
      env.emplace_back("TIERSCOPE_PLACER_TIMELINE", timeline_path);
      // A new file: the placer appends.
      std::ofstream truncate(timeline_path, std::ios::trunc);
    }
    if (!timeline_every_.empty())
      env.emplace_back("TIERSCOPE_PLACER_TIMELINE_EVERY", timeline_every_);
    if (depth_) env.emplace_back("TIERSCOPE_PLACER_DEPTH", std::to_string(depth_));
    if (!default_tier_.empty()) env.emplace_back("TIERSCOPE_PLACER_DEFAULT_TIER", default_tier_);
    if (!unwind_.empty()) env.emplace_back("TIERSCOPE_PLACER_UNWIND", unwind_);

    std::cout.flush();
    const pid_t pid = fork();
    if (pid < 0) throw RunError(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      // A new process tree for the placer (this tierscope may itself run under one).
      unsetenv("TIERSCOPE_PLACER_SAID");
      unsetenv("TIERSCOPE_PLACER_TREE");
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : command_) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      const std::string line =
          "tierscope: error: cannot run " + command_[0] + ": " + std::strerror(errno) + "\n";
      ssize_t ignored = write(2, line.data(), line.size());
      (void)ignored;
      _exit(127);
    }
    // The program owns the terminal's Ctrl-C; tierscope waits for it and reports its status.
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    try {
      Summarize(stats_folder, pid, stats_path);
    } catch (const std::exception& e) {  // the program's exit status matters more
      Say(std::string("cannot add up the placer's stats: ") + e.what());
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
  }

  // The totals of every process to --stats, and one line on stderr. Processes still running
  // when the program exits (daemons) are not counted.
  void Summarize(const StatsFolder& folder, pid_t root, const std::string& stats_path) const {
    nlohmann::json totals = placer::MergeStats(folder.Read(), root);
    const std::string line = placer::SummaryLine(totals);
    if (!totals.empty()) totals["summary"] = line;
    if (!totals.empty()) totals["low_match"] = placer::LowMatch(totals);
    if (!stats_path.empty()) {
      errno = 0;
      std::ofstream out(stats_path, std::ios::trunc);
      out << totals.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      out.close();
      // Name the cause (a full disk said only "cannot write"; tests/faults, TraceOnAFullDisk).
      if (!out) {
        Say("cannot write the stats file " + stats_path +
            (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()));
      }
    }
    // Under --quiet too: a run that places nothing must say so.
    if (!quiet_ || placer::LowMatch(totals) || left_to_kernel_) Say(line);
  }

 private:
  std::string profile_, tiers_, stats_, learn_, default_tier_, unwind_, timeline_, timeline_every_;
  int depth_ = 0;
  bool quiet_ = false;
  bool left_to_kernel_ = false;  // the plan places nothing: the summary line says why
  std::vector<std::string> command_;
};

}  // namespace

std::unique_ptr<Subcommand> MakeRunCommand() {
  return std::make_unique<RunCommand>();
}

}  // namespace tierscope::cli
