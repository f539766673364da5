#include "fault_runs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include <sstream>

namespace tierscope::testing {

BoundedRun RunBounded(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                      int seconds) {
  TempDir dir;
  const std::string out_path = dir.File("stdout"), err_path = dir.File("stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  // A process group of its own: a hang is ended with everything the program started.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  SpawnArgs args(argv, env);
  BoundedRun result;
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, args.argv()[0], &actions, &attr, args.argv(), args.envp());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    result.err = "cannot start " + argv[0];
    return result;
  }
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= seconds) {
      result.hung = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    timespec step{0, 10'000'000};
    nanosleep(&step, nullptr);
  }
  // Children of the program that outlived it (none should) go with its group.
  kill(-pid, SIGKILL);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadBytes(out_path);
  result.err = ReadBytes(err_path);
  return result;
}

std::string FaultProgram(const std::string& name) {
  if (name.find(".so") != std::string::npos) return std::string(FAULT_PROGRAM_DIR) + "/" + name;
  return std::string(FAULT_PROGRAM_DIR) + "/ts-fault-" + name;
}

std::vector<std::string> TierscopeLines(const std::string& err) {
  std::vector<std::string> lines;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("tierscope", 0) != 0) continue;
    if (line.rfind("tierscope: recorded ", 0) == 0) continue;
    if (line.rfind("tierscope run: ", 0) == 0 && line.find(" placed (") != std::string::npos) {
      continue;
    }
    lines.push_back(line);
  }
  return lines;
}

void ExpectSaidOnce(const std::vector<std::string>& lines, const std::vector<std::string>& expected,
                    const std::string& what) {
  for (const auto& e : expected) {
    int n = 0;
    for (const auto& l : lines) n += l.find(e) != std::string::npos;
    EXPECT_EQ(n, 1) << what << ": '" << e << "' said " << n << " times";
  }
  for (const auto& l : lines) {
    bool known = false;
    for (const auto& e : expected) known |= l.find(e) != std::string::npos;
    EXPECT_TRUE(known) << what << " said: " << l;
  }
}

namespace {

// What `tierscope run` says on this machine before any program (e.g. one memory tier): the same
// in every run, not a fault of the case.
const std::vector<std::string>& MachineLines() {
  static const std::vector<std::string> lines = [] {
    const BoundedRun r =
        RunBounded({TierscopeBin(), "run", "--tiers", kTwoTiers, "--", "/bin/true"});
    return TierscopeLines(r.err);
  }();
  return lines;
}

}  // namespace

FaultRuns RunThreeWays(const TempDir& dir, const FaultCase& c,
                       const std::vector<std::string>& expected_record,
                       const std::vector<std::string>& expected_run) {
  FaultRuns r;
  r.plain = RunBounded(c.argv, c.env);
  EXPECT_FALSE(r.plain.hung) << "the plain run hung";
  if (r.plain.hung) return r;

  const std::string trace = dir.File("t.trace");
  std::vector<std::string> record = {TierscopeBin(), "record", "-o", trace};
  record.insert(record.end(), c.record_flags.begin(), c.record_flags.end());
  record.push_back("--");
  record.insert(record.end(), c.argv.begin(), c.argv.end());
  r.recorded = RunBounded(record, c.env);
  EXPECT_FALSE(r.recorded.hung) << "hung under tierscope record";
  EXPECT_EQ(r.recorded.exit_code, r.plain.exit_code) << "under tierscope record:\n"
                                                     << r.recorded.err;
  EXPECT_EQ(r.recorded.out, r.plain.out) << "stdout under tierscope record";
  ExpectSaidOnce(TierscopeLines(r.recorded.err), expected_record, "tierscope record");
  r.facts = ReadTraceFacts(trace);
  EXPECT_TRUE(r.facts.has_header) << r.facts.error;
  EXPECT_GT(r.facts.total_events, 0u) << "an empty trace";

  const std::string profile = dir.File("p.tsp");
  const BoundedRun analyzed = RunBounded({TierscopeBin(), "analyze", trace, "-o", profile});
  EXPECT_EQ(analyzed.exit_code, 0) << "tierscope analyze of the recording: " << analyzed.err;
  const BoundedRun planned =
      RunBounded({TierscopeBin(), "plan", profile, "--tier", "fast=64K", "--tier", "slow=rest",
                  "--min-gain", "0"});  // the placer's paths, not the plan's choice
  EXPECT_EQ(planned.exit_code, 0) << "tierscope plan: " << planned.err;

  // With the timeline on (a thread of the placer's in every process, 20 ms apart): each fault
  // meets it too.
  std::vector<std::string> run = {TierscopeBin(),     "run",
                                  "--profile",        profile,
                                  "--tiers",          kTwoTiers,
                                  "--stats",          dir.File("stats.json"),
                                  "--timeline",       dir.File("timeline.jsonl"),
                                  "--timeline-every", "20ms"};
  run.insert(run.end(), c.run_flags.begin(), c.run_flags.end());
  run.push_back("--");
  run.insert(run.end(), c.argv.begin(), c.argv.end());
  r.placed = RunBounded(run, c.env);
  EXPECT_FALSE(r.placed.hung) << "hung under tierscope run";
  EXPECT_EQ(r.placed.exit_code, r.plain.exit_code) << "under tierscope run:\n" << r.placed.err;
  EXPECT_EQ(r.placed.out, r.plain.out) << "stdout under tierscope run";
  std::vector<std::string> expected = MachineLines();
  expected.insert(expected.end(), expected_run.begin(), expected_run.end());
  ExpectSaidOnce(TierscopeLines(r.placed.err), expected, "tierscope run");
  EXPECT_EQ(ReadBytes(dir.File("timeline.jsonl")).rfind("{", 0), 0u)
      << "no timeline line from the program's first process";
  return r;
}

}  // namespace tierscope::testing
