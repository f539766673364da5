// Real programs under `tierscope record`: their output must not change, and the trace read back
// must hold what they did (counts that the examples print themselves, stacks into their code,
// threads, module maps after dlopen, forks, execs, fatal signals).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "test_support.h"
#include "trace_facts.h"

namespace tierscope::testing {
namespace {

using trace::EventKind;

const std::string kPython = "/usr/bin/python3";  // not a pyenv shim: shims exec the real one

struct Recorded {
  CommandResult plain, traced;
  TraceFacts facts;
};

// Runs argv plainly and under `tierscope record -o trace`, then reads the trace.
Recorded RecordAndCompare(const TempDir& dir, const std::vector<std::string>& argv,
                          const std::vector<std::string>& flags = {},
                          const std::vector<std::string>& env = {},
                          const std::vector<std::string>& modules = {}) {
  Recorded r;
  r.plain = RunCommand(argv, env);
  std::vector<std::string> cmd = {TierscopeBin(), "record", "-o", dir.File("t.trace")};
  cmd.insert(cmd.end(), flags.begin(), flags.end());
  cmd.push_back("--");
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  r.traced = RunCommand(cmd, env);
  r.facts = ReadTraceFacts(dir.File("t.trace"), modules);
  return r;
}

void ExpectSameRunAndCleanTrace(const Recorded& r) {
  EXPECT_EQ(r.traced.exit_code, r.plain.exit_code) << r.traced.err;
  EXPECT_EQ(r.traced.out, r.plain.out);
  EXPECT_TRUE(r.facts.error.empty()) << r.facts.error;
  EXPECT_TRUE(r.facts.has_header);
  EXPECT_TRUE(r.facts.has_footer);
  EXPECT_EQ(r.facts.counters.dropped_events(), 0u);
  EXPECT_NE(r.traced.err.find("tierscope: recorded "), std::string::npos) << r.traced.err;
}

// Recorded with --unwind check: every stack walked by the unwind tables' rules and by libunwind,
// and the two agree (distribution binaries, built without frame pointers).
void ExpectWalksAgree(const Recorded& r) {
  const uint64_t allocations = r.facts.counters.alloc_events();
  EXPECT_GT(r.facts.counters.unwind_checks(), allocations / 2) << r.traced.err;
  EXPECT_EQ(r.facts.counters.unwind_mismatches(), 0u) << r.traced.err;
  EXPECT_NE(r.traced.err.find("Unwind check: 0 of "), std::string::npos) << r.traced.err;
}

TEST(RecordExamples, StressCountsMatchWhatTheProgramCounted) {
  TempDir dir;
  auto r =
      RecordAndCompare(dir, {ExampleBin("ts-example-stress"), "--threads", "3", "--ops", "100000"},
                       {}, {"TIERSCOPE_EXAMPLE_COUNTS=1"});
  ExpectSameRunAndCleanTrace(r);
  auto counts = ParseExampleCounts(r.plain.err);
  ASSERT_EQ(counts["malloc"], 300000u) << r.plain.err;
  // Every malloc the program made, with frames[0] in its own code (stress_alloc).
  EXPECT_EQ(r.facts.CountInExe(trace::MALLOC), counts["malloc"]);
  EXPECT_EQ(r.facts.CountInExe(trace::CALLOC), counts["calloc"]);
  EXPECT_GE(r.facts.Count(trace::FREE), counts["free"]);
  EXPECT_GE(r.facts.threads.size(), 4u);  // main + 3 workers
  EXPECT_GE(r.facts.tids_with_events.size(), 4u);
  EXPECT_EQ(r.facts.chunks_with_a_thread_twice, 0u);
  EXPECT_EQ(r.facts.batches_going_back_in_time, 0u);
  for (const auto& [tid, t] : r.facts.threads) {
    EXPECT_NE(t.end_ns(), 0u) << tid;
    // Its stack, for the analyzer to tell stack samples from samples in the heap's mappings.
    EXPECT_GE(t.stack_hi(), t.stack_lo() + (64 << 10)) << tid;
  }
  EXPECT_EQ(r.facts.footer.end_reason(), "exit");
}

TEST(RecordExamples, DeepStacksAreTruncatedAtTheDepthAsked) {
  TempDir dir;
  auto r = RecordAndCompare(
      dir, {ExampleBin("ts-example-stress"), "--threads", "1", "--ops", "20000", "--depth", "40"},
      {"--depth", "16"});
  ExpectSameRunAndCleanTrace(r);
  EXPECT_EQ(r.facts.header.recorder().max_stack_depth(), 16u);
  size_t longest = 0;
  for (const auto& [id, frames] : r.facts.stacks) longest = std::max(longest, frames.size());
  EXPECT_EQ(longest, 16u);
  EXPECT_GT(r.facts.counters.truncated_stacks(), 0u);
}

TEST(RecordExamples, EveryAllocationApiIsSeen) {
  TempDir dir;
  auto r = RecordAndCompare(dir, {ExampleBin("ts-example-allocapi"), "--rounds", "3"}, {},
                            {"TIERSCOPE_EXAMPLE_COUNTS=1"});
  ExpectSameRunAndCleanTrace(r);
  auto c = ParseExampleCounts(r.plain.err);
  ASSERT_FALSE(c.empty()) << r.plain.err;
  const std::pair<const char*, EventKind> exact[] = {{"calloc", trace::CALLOC},
                                                     {"reallocarray", trace::REALLOCARRAY},
                                                     {"posix_memalign", trace::POSIX_MEMALIGN},
                                                     {"aligned_alloc", trace::ALIGNED_ALLOC},
                                                     {"memalign", trace::MEMALIGN},
                                                     {"valloc", trace::VALLOC},
                                                     {"pvalloc", trace::PVALLOC},
                                                     {"mmap", trace::MMAP},
                                                     {"mremap", trace::MREMAP}};
  for (const auto& [name, kind] : exact) {
    EXPECT_EQ(r.facts.CountInExe(kind), c[name]) << name;
  }
  // g++ compiles the example's realloc(NULL, n) into malloc(n): compare the two together.
  EXPECT_EQ(r.facts.CountInExe(trace::MALLOC) + r.facts.CountInExe(trace::REALLOC),
            c["malloc"] + c["realloc"]);
  EXPECT_EQ(r.facts.CountInExe(trace::NEW) + r.facts.CountInExe(trace::NEW_ARRAY),
            c["new"] + c["new_array"] + c["new_aligned"] + c["new_nothrow"]);
  EXPECT_GE(r.facts.Count(trace::FREE), c["free"]);
  EXPECT_GE(r.facts.Count(trace::DELETE) + r.facts.Count(trace::DELETE_ARRAY),
            c["delete"] + c["delete_array"] + c["delete_sized"] + c["delete_aligned"]);
  EXPECT_GE(r.facts.Count(trace::MUNMAP), c["munmap"]);
  // realloc: the old block ends just before each new one that replaced it.
  EXPECT_GE(r.facts.Count(trace::REALLOC_FREE), 3u * 3);
  EXPECT_EQ(r.facts.Count(trace::MREMAP_UNMAP), r.facts.Count(trace::MREMAP));
}

TEST(RecordExamples, DlopenedPluginIsInAModuleMapAndItsAllocationsPointIntoIt) {
  TempDir dir;
  auto r =
      RecordAndCompare(dir, {ExampleBin("ts-example-dlopen"), "--rounds", "2", "--blocks", "500"},
                       {}, {}, {"libts-example-plugin.so"});
  ExpectSameRunAndCleanTrace(r);
  EXPECT_GE(r.facts.module_maps.size(), 1u + 2 * 2);  // start, then after each dlopen/dlclose
  EXPECT_GE(r.facts.allocs_in_module("libts-example-plugin.so"), 2u * 500);
  bool with_build_id = false;
  for (const auto& map : r.facts.module_maps) {
    for (const auto& m : map.modules()) {
      if (m.path().find("libts-example-plugin.so") != std::string::npos) {
        with_build_id = m.build_id().size() == 20;
      }
    }
  }
  EXPECT_TRUE(with_build_id);
}

TEST(RecordExamples, MultiThreadedKvcacheRunsUnchanged) {
  TempDir dir;
  auto r = RecordAndCompare(dir, {ExampleBin("ts-example-kvcache"), "--ops", "20000", "--keys",
                                  "4096", "--threads", "3"});
  ExpectSameRunAndCleanTrace(r);
  EXPECT_GE(r.facts.threads.size(), 3u);
}

TEST(RecordPrograms, PythonAllocatingALot) {
  TempDir dir;
  auto r = RecordAndCompare(
      dir,
      {kPython, "-c",
       "import collections\n"
       "d = collections.defaultdict(list)\n"
       "for i in range(200000): d[i % 977].append(str(i) * 3)\n"
       "print(sum(len(v) for v in d.values()), len(d))\n"},
      {}, {"PYTHONMALLOC=malloc"});  // every object through malloc, not pymalloc's arenas
  ExpectSameRunAndCleanTrace(r);
  EXPECT_GT(r.facts.Count(trace::MALLOC) + r.facts.Count(trace::REALLOC), 100000u);
  EXPECT_GT(r.facts.stacks.size(), 50u);
  // The default walk: the unwind tables' rules, next to nothing left to libunwind.
  EXPECT_LT(r.facts.counters.libunwind_walks(), r.facts.counters.alloc_events() / 1000);
}

TEST(RecordPrograms, Perl) {
  TempDir dir;
  auto r = RecordAndCompare(dir,
                            {"/usr/bin/perl", "-e",
                             "my %h; $h{$_ % 1000} .= 'x' x ($_ % 50) for 1..100000; "
                             "print scalar(keys %h), qq{\\n};"},
                            {"--unwind", "check"});
  ExpectSameRunAndCleanTrace(r);
  ExpectWalksAgree(r);
  EXPECT_GT(r.facts.total_events, 1000u);
}

TEST(RecordPrograms, GitLogOnARepoMadeHere) {
  TempDir dir;
  const std::string repo = dir.File("repo");
  const std::string setup = "git init -q " + repo + " && cd " + repo +
                            " && for i in 1 2 3 4 5; do echo $i > f$i && git add f$i && "
                            "git -c user.name=t -c user.email=t@e commit -qm \"commit $i\"; done";
  ASSERT_EQ(std::system(setup.c_str()), 0);
  auto r = RecordAndCompare(dir, {"/usr/bin/git", "-C", repo, "log", "--format=%s"},
                            {"--unwind", "check"});
  ExpectSameRunAndCleanTrace(r);
  ExpectWalksAgree(r);
  EXPECT_NE(r.traced.out.find("commit 3"), std::string::npos);
  EXPECT_GT(r.facts.total_events, 100u);
}

TEST(RecordPrograms, Sqlite3) {
  TempDir dir;
  auto r = RecordAndCompare(
      dir,
      {"/usr/bin/sqlite3", ":memory:",
       "create table t(a, b); "
       "with recursive c(x) as (select 1 union all select x + 1 from c where x < 20000) "
       "insert into t select x, hex(randomblob(0) || x) from c; "
       "select count(*), sum(a) from t;"},
      {"--unwind", "check"});
  ExpectSameRunAndCleanTrace(r);
  ExpectWalksAgree(r);
  EXPECT_NE(r.traced.out.find("20000|200010000"), std::string::npos) << r.traced.out;
  EXPECT_GT(r.facts.total_events, 1000u);
}

TEST(RecordLifeCycle, ForkedChildWritesItsOwnTrace) {
  TempDir dir;
  const std::string script =
      "import os\n"
      "pid = os.fork()\n"
      "if pid == 0:\n"
      "    x = [bytearray(1000) for _ in range(5000)]\n"
      "    os._exit(0)\n"
      "os.waitpid(pid, 0)\n"
      "print('child', 'done')\n";
  auto r = RecordAndCompare(dir, {kPython, "-c", script});
  ExpectSameRunAndCleanTrace(r);
  int child_traces = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = e.path().filename();
    if (name != "t.trace" && name.rfind("t.", 0) == 0) {
      ++child_traces;
      auto child = ReadTraceFacts(e.path());
      EXPECT_TRUE(child.error.empty()) << child.error;
      EXPECT_TRUE(child.has_footer);
      EXPECT_EQ(child.footer.end_reason(), "_exit");
      EXPECT_GE(child.Count(trace::MALLOC), 5000u);
      EXPECT_EQ(child.header.pid(), static_cast<uint32_t>(std::stoul(name.substr(2))));
    }
  }
  EXPECT_EQ(child_traces, 1);
  // The summary says so, with the command that analyzes both.
  EXPECT_NE(r.traced.err.find("1 other process of the run"), std::string::npos) << r.traced.err;
  EXPECT_NE(r.traced.err.find(dir.File("t") + ".*.trace"), std::string::npos) << r.traced.err;

  TempDir dir2;
  auto untraced = RecordAndCompare(dir2, {kPython, "-c", script}, {"--no-follow-fork"});
  ExpectSameRunAndCleanTrace(untraced);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir2.path()),
                          std::filesystem::directory_iterator()),
            1);
  EXPECT_EQ(untraced.traced.err.find("other process"), std::string::npos) << untraced.traced.err;
}

std::string TestProgram(const std::string& name) {
  return std::string(TEST_PROGRAM_DIR) + "/ts-test-" + name;
}

// `timeout` kills the whole process group (tierscope, the program, its children) when a run hangs;
// it then exits 124 (137 with KILL), which no test here expects from the program.
std::vector<std::string> WithTimeout(int seconds, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/bin/timeout", "-s", "KILL", std::to_string(seconds)});
  return argv;
}

// Worker threads intern new stacks while the main thread forks 200 times (bursts of new stacks
// land during each fork); every child allocates and _exits. No child may wait for a thread of its
// parent that is not there (stack_table.cc AfterForkInChild).
TEST(RecordLifeCycle, ForkStormWhileOtherThreadsAllocateNeverHangs) {
  TempDir dir;
  const std::vector<std::string> program = {TestProgram("fork_storm"), "200", "3"};
  const CommandResult plain = RunCommand(program);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const CommandResult traced =
      RunCommand(WithTimeout(240, {TierscopeBin(), "record", "-q", "-o", dir.File("t.trace"), "--",
                                   program[0], program[1], program[2]}));
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(traced.out, plain.out);
  EXPECT_EQ(traced.out, "forks 200 failed 0\n");
  int child_traces = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = e.path().filename();
    if (name == "t.trace") continue;
    ++child_traces;
    if (child_traces % 40 != 1) continue;  // reading all 200 adds nothing
    auto child = ReadTraceFacts(e.path());
    EXPECT_TRUE(child.error.empty()) << name << ": " << child.error;
    EXPECT_EQ(child.footer.end_reason(), "_exit") << name;
    EXPECT_GE(child.Count(trace::MALLOC) + child.Count(trace::NEW_ARRAY), 50u) << name;
  }
  EXPECT_EQ(child_traces, 200);
  auto parent = ReadTraceFacts(dir.File("t.trace"));
  EXPECT_TRUE(parent.error.empty()) << parent.error;
  EXPECT_EQ(parent.footer.end_reason(), "exit");
}

// Without --sampler the recording has access samples (a trace without them plans nothing): auto
// picks what the machine has (the timer sampler on a VM without a PMU), says nothing about it up
// front, and the summary names the source. --sampler auto asked for says its choice once.
TEST(RecordSampling, TheDefaultSamplesAccessesAndTheSummaryNamesTheSource) {
  TempDir dir;
  const std::string script =
      "x = bytearray(16 << 20)\n"
      "s = 0\n"
      "for r in range(3):\n"
      "    for i in range(0, len(x), 64): s += x[i]\n"
      "print(s)\n";
  auto r = RecordAndCompare(dir, {kPython, "-c", script});
  ExpectSameRunAndCleanTrace(r);
  ASSERT_EQ(r.facts.header.samplers_size(), 1) << r.traced.err;
  const trace::SamplerKind kind = r.facts.header.samplers(0).kind();
  EXPECT_NE(kind, trace::SAMPLER_FAULTS);
  EXPECT_GT(r.facts.counters.samples(), 0u) << r.traced.err;  // ~1 s of CPU, 1 sample per ms
  const std::string named = std::string("access samples (") +
                            (kind == trace::SAMPLER_PEBS  ? "pebs"
                             : kind == trace::SAMPLER_IBS ? "ibs"
                                                          : "timer") +
                            ")";
  EXPECT_NE(r.traced.err.find(named), std::string::npos) << r.traced.err;
  EXPECT_EQ(r.traced.err.find("sampler auto"), std::string::npos) << r.traced.err;

  // Asked for: said once, by the program started, not by the process it runs (the shell's child)
  // nor by the image it execs.
  const std::string python(kPython);
  auto asked = RecordAndCompare(
      dir, {"/bin/sh", "-c", python + " -c 'print(1)'; exec " + python + " -c 'print(2)'"},
      {"--sampler", "auto"});
  EXPECT_EQ(asked.traced.exit_code, 0) << asked.traced.err;
  EXPECT_EQ(asked.traced.out, asked.plain.out);
  EXPECT_EQ(Count(asked.traced.err, "sampler auto: using "), 1) << asked.traced.err;
  auto off = RecordAndCompare(dir, {kPython, "-c", "print(1)"}, {"--sampler", "none"});
  ExpectSameRunAndCleanTrace(off);
  EXPECT_EQ(off.facts.header.samplers_size(), 0);
  EXPECT_NE(off.traced.err.find("0 access samples (sampling off)"), std::string::npos)
      << off.traced.err;
}

// With an access sampler, a forked child samples too: it opens its own sources (the parent's
// perf events and drain thread are not its), quietly (the parent said which, once).
TEST(RecordLifeCycle, ForkedChildIsAccessSampledToo) {
  TempDir dir;
  const std::string script =
      "import os\n"
      "def work():\n"
      "    x = bytearray(16 << 20)\n"
      "    s = 0\n"
      "    for r in range(3):\n"
      "        for i in range(0, len(x), 64): s += x[i]\n"
      "    return s\n"
      "pid = os.fork()\n"
      "if pid == 0:\n"
      "    work()\n"
      "    os._exit(0)\n"
      "os.waitpid(pid, 0)\n"
      "print('done')\n";
  auto r = RecordAndCompare(dir, {kPython, "-c", script}, {"--sampler", "timer"});
  ExpectSameRunAndCleanTrace(r);
  EXPECT_EQ(r.traced.err.find("sampler"), std::string::npos) << r.traced.err;
  int child_traces = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = e.path().filename();
    if (name == "t.trace") continue;
    ++child_traces;
    auto child = ReadTraceFacts(e.path());
    EXPECT_TRUE(child.error.empty()) << child.error;
    ASSERT_EQ(child.header.samplers_size(), 1) << name;
    EXPECT_EQ(child.header.samplers(0).kind(), trace::SAMPLER_TIMER);
    // ~1.5 s of CPU at one sample per ms of it.
    EXPECT_GT(child.counters.samples(), 0u) << name;
  }
  EXPECT_EQ(child_traces, 1);
}

// `record` follows execs by default: the image the traced process execs in place writes OUT (the
// program a launcher starts is what the user asked about); the image before it is kept next to it
// as OUT-stem.PID.before-exec.trace, and one line says so. --no-follow-exec: the exec'd image is
// not traced.
TEST(RecordLifeCycle, ExecIsFollowedByDefault) {
  const std::string script =
      "import os\n"
      "x = [bytearray(100) for _ in range(1000)]\n"
      "os.execv('/usr/bin/perl', ['perl', '-e', 'my @a = map { \"x\" x $_ } 1..2000; print "
      "\"perl\\n\"'])\n";
  TempDir dir;
  auto r = RecordAndCompare(dir, {kPython, "-c", script});
  ExpectSameRunAndCleanTrace(r);
  EXPECT_NE(r.facts.header.executable().find("perl"), std::string::npos)
      << r.facts.header.executable();
  EXPECT_GT(r.facts.Count(trace::MALLOC), 1000u);
  EXPECT_EQ(r.facts.footer.end_reason(), "exit");
  std::vector<std::string> others;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().filename() != "t.trace") others.push_back(e.path().filename());
  }
  ASSERT_EQ(others.size(), 1u);
  EXPECT_NE(others[0].find(".before-exec.trace"), std::string::npos) << others[0];
  auto before = ReadTraceFacts(dir.File(others[0]));
  EXPECT_TRUE(before.error.empty()) << before.error;
  EXPECT_NE(before.header.executable().find("python"), std::string::npos);
  EXPECT_EQ(before.footer.end_reason(), "exec");
  EXPECT_GE(before.Count(trace::MALLOC), 1000u);
  // Said once, naming both files.
  const std::string err = r.traced.err;
  const size_t said = err.find("exec'd another");
  ASSERT_NE(said, std::string::npos) << err;
  EXPECT_EQ(err.find("exec'd another", said + 1), std::string::npos) << err;
  EXPECT_NE(err.find(others[0]), std::string::npos) << err;

  TempDir dir2;
  auto unfollowed = RecordAndCompare(dir2, {kPython, "-c", script}, {"--no-follow-exec"});
  ExpectSameRunAndCleanTrace(unfollowed);
  EXPECT_EQ(unfollowed.facts.footer.end_reason(), "exec");
  EXPECT_NE(unfollowed.facts.header.executable().find("python"), std::string::npos);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir2.path()),
                          std::filesystem::directory_iterator()),
            1);
}

// A launcher script (like a pyenv shim: a few commands, then exec of the real program): the trace
// is the real program's, every one of its allocations.
TEST(RecordLifeCycle, ShimScriptThatExecsTheProgramIsFollowed) {
  TempDir dir;
  const std::string shim = dir.File("shim");
  WriteBytes(shim,
             "#!/bin/bash\n"
             "here=$(dirname \"$0\")\n"
             "case \"$1\" in --*) ;; *) echo usage >&2; exit 2 ;; esac\n"
             "exec " +
                 ExampleBin("ts-example-stress") + " \"$@\"\n");
  ASSERT_EQ(chmod(shim.c_str(), 0755), 0);
  auto r = RecordAndCompare(dir, {shim, "--threads", "2", "--ops", "20000"}, {},
                            {"TIERSCOPE_EXAMPLE_COUNTS=1"});
  ExpectSameRunAndCleanTrace(r);
  auto counts = ParseExampleCounts(r.plain.err);
  ASSERT_EQ(counts["malloc"], 40000u) << r.plain.err;
  EXPECT_NE(r.facts.header.executable().find("ts-example-stress"), std::string::npos)
      << r.facts.header.executable();
  EXPECT_EQ(r.facts.CountInExe(trace::MALLOC), counts["malloc"]);
  EXPECT_EQ(r.facts.CountInExe(trace::CALLOC), counts["calloc"]);
  EXPECT_EQ(r.facts.footer.end_reason(), "exit");
}

// An exec that fails returns to the program, which goes on: so does the trace (a checkpoint is
// written before each exec; its "exec" footer is followed by the rest of the run).
TEST(RecordLifeCycle, FailedExecsKeepTheTraceGoing) {
  TempDir dir;
  auto r = RecordAndCompare(dir, {TestProgram("exec_fails")});
  ExpectSameRunAndCleanTrace(r);
  EXPECT_EQ(r.traced.out,
            "execvp failed: No such file or directory\nexecv failed: Permission denied\n");
  // 1000 before, between and after the two execs, from the program's own code.
  EXPECT_GE(r.facts.CountInExe(trace::MALLOC), 3000u);
  EXPECT_GE(r.facts.Count(trace::FREE), 3000u);
  EXPECT_EQ(r.facts.footer.end_reason(), "exit");
}

TEST(RecordLifeCycle, FatalSignalLeavesAReadableTrace) {
  TempDir dir;
  auto r = RecordAndCompare(dir,
                            {kPython, "-c",
                             "import os, signal\n"
                             "x = [bytearray(64) for _ in range(20000)]\n"
                             "os.kill(os.getpid(), signal.SIGSEGV)\n"},
                            {}, {"PYTHONMALLOC=malloc"});
  EXPECT_EQ(r.plain.exit_code, 128 + SIGSEGV);
  EXPECT_EQ(r.traced.exit_code, 128 + SIGSEGV);
  EXPECT_TRUE(r.facts.error.empty()) << r.facts.error;
  EXPECT_TRUE(r.facts.has_footer);
  EXPECT_EQ(r.facts.footer.end_reason(), "signal SIGSEGV");
  EXPECT_GE(r.facts.Count(trace::MALLOC), 20000u);
}

// A program that dies inside malloc (glibc aborts holding the arena's lock, which every thread
// shares with arena_max=1) while the timer sampler's drain thread and the writer need that lock:
// the recorder's crash path must give up on them in bounded time and let the program die of its
// own signal, leaving the chunks already written readable.
TEST(RecordLifeCycle, CrashInsideMallocWithTheTimerSamplerDiesOfItsSignal) {
  TempDir dir;
  const std::vector<std::string> env = {"GLIBC_TUNABLES=glibc.malloc.arena_max=1"};
  const std::string program = TestProgram("crash_in_malloc");
  const CommandResult plain = RunCommand({program, "200"}, env);
  ASSERT_EQ(plain.exit_code, 128 + SIGABRT) << plain.err;
  const CommandResult traced =
      RunCommand(WithTimeout(60, {TierscopeBin(), "record", "-q", "-o", dir.File("t.trace"),
                                  "--sampler", "timer", "--", program, "200"}),
                 env);
  EXPECT_EQ(traced.exit_code, 128 + SIGABRT) << traced.err;
  EXPECT_EQ(traced.out, plain.out);
  const CommandResult dump = RunCommand({TierscopeBin(), "dump", dir.File("t.trace")});
  EXPECT_TRUE(dump.exit_code == 0 || dump.exit_code == 1) << dump.exit_code << dump.err;
  EXPECT_NE(dump.out.find("kind: trace"), std::string::npos) << dump.out.substr(0, 200);
  const TraceFacts facts = ReadTraceFacts(dir.File("t.trace"));
  EXPECT_TRUE(facts.has_header) << facts.error;

  // Its own SIGABRT handler calls _exit(3): the recorder finishes on its exit path, in the same
  // crashed process; that path must not wait without a bound either.
  TempDir dir2;
  const CommandResult plain2 = RunCommand({program, "200", "--exit-in-handler"}, env);
  ASSERT_EQ(plain2.exit_code, 3) << plain2.err;
  const CommandResult traced2 =
      RunCommand(WithTimeout(60, {TierscopeBin(), "record", "-q", "-o", dir2.File("t.trace"),
                                  "--sampler", "timer", "--", program, "200", "--exit-in-handler"}),
                 env);
  EXPECT_EQ(traced2.exit_code, 3) << traced2.err;
  EXPECT_EQ(traced2.out, plain2.out);
  const CommandResult dump2 = RunCommand({TierscopeBin(), "dump", dir2.File("t.trace")});
  EXPECT_TRUE(dump2.exit_code == 0 || dump2.exit_code == 1) << dump2.exit_code << dump2.err;
}

// However the program ends, its status is passed through and is the footer's: os._exit (the
// _exit hook), and coreutils' false, whose main returns 1 (the C library calls exit() itself, past
// the exit hook).
TEST(RecordLifeCycle, ExitStatusIsPassedThroughAndInTheFooter) {
  struct Case {
    std::vector<std::string> argv;
    int status;
    const char* end_reason;
  };
  const std::vector<Case> cases = {
      {{kPython, "-c", "import os\nprint('bye', flush=True)\nos._exit(7)\n"}, 7, "_exit"},
      {{"/bin/false"}, 1, "exit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.argv.back());
    TempDir dir;
    auto r = RecordAndCompare(dir, c.argv);
    ExpectSameRunAndCleanTrace(r);
    EXPECT_EQ(r.traced.exit_code, c.status);
    EXPECT_EQ(r.facts.footer.end_reason(), c.end_reason);
    EXPECT_EQ(r.facts.footer.exit_status(), c.status);
  }
}

// The realloc's old block is handed to another thread, which records that allocation, before the
// real realloc returns (programs/realloc_handoff_preload.cc). The release must still be stamped
// first: the join orders by time, and a later release would erase the other thread's new block.
TEST(RecordLifeCycle, ReallocReleaseIsStampedBeforeAnotherThreadReusesTheAddress) {
  TempDir dir;
  const std::vector<std::string> env = {"LD_PRELOAD=" + std::string(TEST_PROGRAM_DIR) +
                                        "/libts-test-realloc-handoff.so"};
  const CommandResult traced =
      RunCommand(WithTimeout(60, {TierscopeBin(), "record", "-q", "-o", dir.File("t.trace"), "--",
                                  TestProgram("realloc_handoff")}),
                 env);
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  unsigned long long old = 0, reused = 0;
  ASSERT_EQ(std::sscanf(traced.out.c_str(), "old=%llx reused=%llx", &old, &reused), 2)
      << traced.out;
  ASSERT_EQ(old, reused) << "the handoff library did not hand the block over";
  const std::vector<EventAt> events = AllocEventsAt(dir.File("t.trace"), old);
  const EventAt* release = nullptr;
  const EventAt* reuse = nullptr;
  for (const auto& e : events) {
    if (e.event.kind == trace::REALLOC_FREE) release = &e;
    if (e.event.kind == trace::REALLOC) reuse = &e;
  }
  ASSERT_NE(release, nullptr);
  ASSERT_NE(reuse, nullptr);
  EXPECT_NE(release->tid, reuse->tid);
  EXPECT_LE(release->event.time_ns, reuse->event.time_ns);
}

TEST(RecordSampling, SampledModeRecordsAFractionAndSaysItsRate) {
  TempDir dir;
  auto r =
      RecordAndCompare(dir, {ExampleBin("ts-example-stress"), "--threads", "2", "--ops", "100000"},
                       {"--alloc-sample-bytes", "65536"});
  ExpectSameRunAndCleanTrace(r);
  EXPECT_EQ(r.facts.header.recorder().alloc_sample_bytes(), 65536u);
  // ~2 KiB average over 200k mallocs = ~400 MiB; one sample per 64 KiB: ~6400 samples.
  const uint64_t sampled = r.facts.Count(trace::MALLOC);
  EXPECT_GT(sampled, 3000u);
  EXPECT_LT(sampled, 12000u);
  // Only releases of sampled blocks are recorded.
  EXPECT_LE(r.facts.Count(trace::FREE), sampled + 10);
}

TEST(RecordSampling, MinSizeSkipsSmallAllocations) {
  TempDir dir;
  auto r =
      RecordAndCompare(dir, {ExampleBin("ts-example-stress"), "--threads", "1", "--ops", "50000"},
                       {"--min-size", "2048"});
  ExpectSameRunAndCleanTrace(r);
  // Sizes are uniform in 16..4096: about half are at least 2048.
  const uint64_t n = r.facts.Count(trace::MALLOC);
  EXPECT_GT(n, 20000u);
  EXPECT_LT(n, 30000u);
}

TEST(RecordCli, BadFlagsStopBeforeTheProgramStarts) {
  TempDir dir;
  const std::string marker = dir.File("started");
  for (const auto& flags :
       std::vector<std::vector<std::string>>{{"--depth", "0"},
                                             {"--overflow", "grow"},
                                             {"--unwind", "dwarf"},
                                             {"--alloc-sample-bytes", "x"},
                                             {"-o", "/nonexistent-folder/t.trace"}}) {
    std::vector<std::string> cmd = {TierscopeBin(), "record"};
    cmd.insert(cmd.end(), flags.begin(), flags.end());
    if (flags[0] != "-o") cmd.insert(cmd.end(), {"-o", dir.File("t.trace")});
    cmd.insert(cmd.end(), {"--", "/usr/bin/touch", marker});
    auto r = RunCommand(cmd);
    EXPECT_EQ(r.exit_code, 2) << flags[0];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(flags[0] == "-o" ? "/nonexistent-folder" : flags[0]), std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(marker)) << flags[0];
  }
}

TEST(RecordCli, ExitCodeIsTheProgramsAndMissingProgramIsSaid) {
  TempDir dir;
  auto r = RunCommand(
      {TierscopeBin(), "record", "-q", "-o", dir.File("t.trace"), "--", "/bin/sh", "-c", "exit 5"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  auto missing = RunCommand(
      {TierscopeBin(), "record", "-o", dir.File("u.trace"), "--", dir.File("no-such-program")});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("no-such-program"), std::string::npos) << missing.err;
}

TEST(RecordCli, BadEnvironmentInDirectPreloadUseIsSaidOnceAndTheProgramRuns) {
  auto r = RunCommand({"/usr/bin/perl", "-e", "print qq{ok\\n}"},
                      {"LD_PRELOAD=" + BuildDir() + "/lib/libtierscope-recorder.so",
                       "TIERSCOPE_DEPTH=zero", "TIERSCOPE_OUTPUT=/nonexistent/x.trace"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "ok\n");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("TIERSCOPE_DEPTH"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tierscope::testing
