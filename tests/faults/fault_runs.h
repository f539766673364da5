// The fault suite's runner: a program run plainly, under `tierscope record` and under
// `tierscope run` (with a plan made from that recording), every run bounded in time.
#pragma once

#include <string>
#include <vector>

#include "test_support.h"
#include "trace_facts.h"

namespace tierscope::testing {

// A run that did not end within its bound is killed with its whole process group.
struct BoundedRun : CommandResult {
  bool hung = false;
};
constexpr int kBoundSeconds = 120;
BoundedRun RunBounded(const std::vector<std::string>& argv,
                      const std::vector<std::string>& env = {}, int seconds = kBoundSeconds);

std::string FaultProgram(const std::string& name);  // ts-fault-NAME, or a library's file name

// The lines on stderr that start with "tierscope", less the summary each command ends with:
// what tierscope said besides its summary.
std::vector<std::string> TierscopeLines(const std::string& err);

constexpr const char* kTwoTiers = "fast=node:0;slow=node:0,thp=off";

struct FaultCase {
  FaultCase(std::vector<std::string> argv_, std::vector<std::string> env_ = {},
            std::vector<std::string> record_flags_ = {}, std::vector<std::string> run_flags_ = {})
      : argv(std::move(argv_)),
        env(std::move(env_)),
        record_flags(std::move(record_flags_)),
        run_flags(std::move(run_flags_)) {}
  std::vector<std::string> argv;
  std::vector<std::string> env;           // every run, the plain one too
  std::vector<std::string> record_flags;  // after `tierscope record -o T`
  std::vector<std::string> run_flags;     // after `tierscope run --profile P --tiers ...`
};

struct FaultRuns {
  BoundedRun plain, recorded, placed;
  TraceFacts facts;  // the recorded trace
};

// Runs the case three ways in `dir` and checks what holds for every case: no hang, the same exit
// status and stdout as the plain run, a readable trace with events that `tierscope analyze`
// reads, a plan made from it, and no line from tierscope besides its summaries and the ones
// every run on this machine says (`expected_record` / `expected_run`: substrings of lines that
// must each be said exactly once).
FaultRuns RunThreeWays(const TempDir& dir, const FaultCase& c,
                       const std::vector<std::string>& expected_record = {},
                       const std::vector<std::string>& expected_run = {});

// Each expected substring in exactly one of `lines`, and every line holds one of them.
void ExpectSaidOnce(const std::vector<std::string>& lines, const std::vector<std::string>& expected,
                    const std::string& what);

}  // namespace tierscope::testing
