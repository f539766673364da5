// The fault-injection suite: each case is a small program (programs/) run plainly, under
// `tierscope record` and under `tierscope run` with a plan made from its recording
// (fault_runs.h). A hang, a crash, another exit status or another stdout than the plain run's is a
// failure, and so is any line from tierscope besides its summary, unless the case expects it:
// a fault tierscope notices is said in exactly one line that names it.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>

#include "fault_runs.h"
#include "tierscope/formats/profile_io.h"
#include "tierscope/formats/trace_io.h"

#include <sys/wait.h>

namespace tierscope::testing {
namespace {

size_t FilesNamed(const TempDir& dir, const std::string& prefix, const std::string& suffix) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = e.path().filename();
    n += name.rfind(prefix, 0) == 0 && name.size() > prefix.size() + suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return n;
}

// What `record` says once after a run of many processes, naming their traces.
constexpr const char* kOtherProcessesLine = "of the run (forks, images before an exec)";

// Forks from a program whose threads have malloc, new and mmap in flight; children end by
// exit() and _exit(). Each child writes its own trace under record.
TEST(Faults, ForkStormFromAThreadedProgram) {
  TempDir dir;
  const auto r =
      RunThreeWays(dir, {{FaultProgram("fork_threads"), "100", "3"}}, {kOtherProcessesLine});
  EXPECT_EQ(r.plain.out, "forks 100 bad 0\n");
  EXPECT_EQ(r.facts.footer.end_reason(), "exit");
  EXPECT_EQ(FilesNamed(dir, "t.", ".trace"), 100u);
}

TEST(Faults, VforkAndPosixSpawnWhileThreadsAllocate) {
  TempDir dir;
  const auto r = RunThreeWays(dir, {{FaultProgram("spawn"), "4"}}, {kOtherProcessesLine});
  EXPECT_NE(r.plain.out.find("vfork+exec 3\n"), std::string::npos) << r.plain.out;
  EXPECT_NE(r.plain.out.find("posix_spawnp 0 3\n"), std::string::npos) << r.plain.out;
  EXPECT_NE(r.plain.out.find("vfork+failed exec 127\n"), std::string::npos) << r.plain.out;
}

// Five execs in a row, each through another exec function (fexecve among them): record follows
// them to the last image, which writes the trace.
TEST(Faults, ExecChainThroughEveryExecFunction) {
  TempDir dir;
  const auto r = RunThreeWays(dir, {{FaultProgram("exec_chain"), "5"}},
                              {"exec'd another", kOtherProcessesLine});
  EXPECT_EQ(r.plain.exit_code, 3);
  EXPECT_NE(r.plain.out.find("stage 0\ndone "), std::string::npos) << r.plain.out;
  EXPECT_NE(r.facts.header.executable().find("ts-fault-exec_chain"), std::string::npos);
  EXPECT_EQ(r.facts.footer.end_reason(), "exit");
  // Every image before the last one: complete, up to its exec (fexecve's too).
  size_t before = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = e.path().filename();
    if (name.find(".before-exec") == std::string::npos) continue;
    ++before;
    const TraceFacts facts = ReadTraceFacts(e.path());
    EXPECT_TRUE(facts.error.empty()) << name << ": " << facts.error;
    EXPECT_EQ(facts.footer.end_reason(), "exec") << name;
    EXPECT_GT(facts.total_events, 0u) << name;
  }
  EXPECT_EQ(before, 5u);
}

TEST(Faults, LauncherScriptThatExecsTheProgram) {
  TempDir dir;
  const std::string launcher = dir.File("launcher");
  WriteBytes(launcher,
             "#!/bin/bash\n"
             "for i in 1 2 3; do /bin/true; done\n"
             "v=$(/bin/echo 1)\n"
             "exec " +
                 FaultProgram("exec_chain") + " \"$@\"\n");
  ASSERT_EQ(chmod(launcher.c_str(), 0755), 0);
  const auto r = RunThreeWays(dir, {{launcher, "2"}}, {"exec'd another", kOtherProcessesLine});
  EXPECT_EQ(r.plain.exit_code, 3);
  EXPECT_NE(r.facts.header.executable().find("ts-fault-exec_chain"), std::string::npos);
}

// A handler of SIGALRM every 100 us that allocates and maps, while the program allocates: the
// signal lands inside malloc, inside the hooks and their stack walks.
TEST(Faults, SignalHandlerThatAllocatesInterruptsMallocAndTheHooks) {
  TempDir dir;
  const auto r = RunThreeWays(dir, {{FaultProgram("signals"), "3000"}});
  EXPECT_EQ(r.plain.out, "handled at least 3000 signals\n");
}

// Signals blocked in every thread of the program and taken with sigwait: a thread of tierscope
// must not take them (it would run the default action: the program dies of SIGALRM).
TEST(Faults, ProcessSignalsReachTheProgramsSigwaitThread) {
  TempDir dir;
  const auto r = RunThreeWays(dir, {{FaultProgram("sigwait"), "300"}});
  EXPECT_EQ(r.plain.out, "took 300 signals by sigwait\n");
}

// 1000 threads in waves, then 1200 alive at once (more than the recorder's default bound on
// event buffers, 64 MiB / 64 KiB), each holding its first events while it waits for the others.
TEST(Faults, ThousandsOfThreadsStartAndExit) {
  TempDir dir;
  const auto r = RunThreeWays(dir, {{FaultProgram("threads"), "10", "100", "1200"}});
  EXPECT_NE(r.plain.out.find("1200 together ok"), std::string::npos) << r.plain.out;
  EXPECT_GE(r.facts.threads.size(), 2200u);
}

TEST(Faults, DlopenDlcloseChurn) {
  TempDir dir;
  const auto r =
      RunThreeWays(dir, {{FaultProgram("dl_churn"), "300", FaultProgram("libts-fault-plugin-a.so"),
                          FaultProgram("libts-fault-plugin-b.so")}});
  EXPECT_NE(r.plain.out.find("failures 0"), std::string::npos) << r.plain.out;
}

// Blocks allocated by a constructor of priority 101 in the program and in another preloaded
// library (before tierscope's library initialised, or about then), reallocated and checked in
// main, freed by destructors of priority 101 (after tierscope's library finished).
TEST(Faults, MemoryAllocatedBeforeOurLibraryInitialisesAndFreedAfterItEnds) {
  TempDir dir;
  const auto r = RunThreeWays(
      dir, {{FaultProgram("early_alloc")}, {"LD_PRELOAD=" + FaultProgram("libts-fault-early.so")}});
  EXPECT_EQ(r.plain.out, "words 6950 intact 1 preloaded block intact\n");
}

// Fibers on malloc'ed and mmap'ed stacks in code without frame pointers, keyed 4 frames deep:
// the placer's stack walk meets the end of a fiber's stack; also with --unwind fp.
TEST(Faults, FibersWithoutFramePointers) {
  TempDir dir;
  const FaultCase c{{FaultProgram("fibers"), "8", "200"}, {}, {}, {"--depth", "4"}};
  const auto r = RunThreeWays(dir, c);
  EXPECT_NE(r.plain.out.find("fibers 8 rounds 200"), std::string::npos) << r.plain.out;
  for (const char* unwind : {"fp", "libunwind"}) {
    std::vector<std::string> run = {TierscopeBin(), "run",     "--profile", dir.File("p.tsp"),
                                    "--tiers",      kTwoTiers, "--depth",   "4",
                                    "--unwind",     unwind,    "-q",        "--"};
    run.insert(run.end(), c.argv.begin(), c.argv.end());
    const auto placed = RunBounded(run);
    EXPECT_FALSE(placed.hung) << unwind;
    EXPECT_EQ(placed.exit_code, 0) << unwind << ": " << placed.err;
    EXPECT_EQ(placed.out, r.plain.out) << unwind;
  }
}

// A program that closes every descriptor above stderr (ours too), then writes a file of its own,
// which gets the lowest free descriptor: whatever tierscope had there must not write into it.
TEST(Faults, ProgramClosesEveryFileDescriptor) {
  TempDir dir;
  const auto r = RunThreeWays(dir, {{FaultProgram("close_fds"), "close", dir.path()}},
                              {"closed or replaced the trace's file descriptor"});
  EXPECT_EQ(r.plain.out, "close: own file intact, 4390 bytes\n");
  EXPECT_EQ(r.facts.footer.end_reason(), "exit");
}

TEST(Faults, ProgramDup2sOverEveryFileDescriptor) {
  TempDir dir;
  // With the timer sampler too: its eventfd and perf descriptors get dup2'd over as well.
  const auto r = RunThreeWays(
      dir, {{FaultProgram("close_fds"), "dup2", dir.path()}, {}, {"--sampler", "timer"}},
      {"closed or replaced the trace's file descriptor"});
  EXPECT_EQ(r.plain.out, "dup2: own file intact, 4390 bytes\n");
  EXPECT_EQ(r.facts.footer.end_reason(), "exit");
}

// What the recorder promises for a trace cut short (recorder/README.md, Life cycle): complete
// chunks are never lost. The reader gets every chunk up to the end or to a last chunk cut short
// (the first one, when the disk filled up while it was written); a process that died before its
// first chunk leaves the bare file header.
void ExpectCompleteChunksUpToTheEnd(const std::string& path) {
  formats::TraceReader reader(path);
  trace::TraceChunk chunk;
  size_t chunks = 0;
  while (reader.Next(&chunk)) ++chunks;
  if (chunks == 0 &&
      (!reader.error() || reader.error()->kind != formats::FormatError::Kind::kTruncated)) {
    EXPECT_EQ(std::filesystem::file_size(path), 16u);
    if (reader.error()) {
      EXPECT_EQ(reader.error()->kind, formats::FormatError::Kind::kEmpty)
          << reader.error()->Message();
    }
    return;
  }
  if (reader.error()) {
    EXPECT_EQ(reader.error()->kind, formats::FormatError::Kind::kTruncated)
        << reader.error()->Message();
  }
  // analyze reads it: exit 0, or 1 naming the damage after using everything before it.
  const TempDir out;
  const auto analyzed = RunBounded({TierscopeBin(), "analyze", path, "-o", out.File("p.tsp")});
  EXPECT_TRUE(analyzed.exit_code == 0 || analyzed.exit_code == 1) << analyzed.err;
  EXPECT_TRUE(std::filesystem::exists(out.File("p.tsp"))) << analyzed.err;
}

// A profile planned from a recording of the churn program (for cases whose own runs end too
// early to plan from): DIR/churn.tsp.
void PlanFromChurn(const TempDir& dir) {
  const std::string trace = dir.File("churn.trace"), profile = dir.File("churn.tsp");
  ASSERT_EQ(RunBounded({TierscopeBin(), "record", "-q", "-o", trace, "--", FaultProgram("churn"),
                        "20000", "2"})
                .exit_code,
            0);
  ASSERT_EQ(RunBounded({TierscopeBin(), "analyze", trace, "-o", profile}).exit_code, 0);
  ASSERT_EQ(
      RunBounded({TierscopeBin(), "plan", profile, "--tier", "fast=64K", "--tier", "slow=rest",
                  "--min-gain", "0"})  // the placer's paths, not the plan's choice
          .exit_code,
      0);
}

// SIGKILL at a moment chosen by a random seed (said on failure): no exit path runs. The trace
// keeps every complete chunk; record and run pass the death on as the exit status.
TEST(Faults, SigkillAtRandomMoments) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(PlanFromChurn(dir));
  std::random_device random;
  for (int i = 0; i < 3; ++i) {
    const std::string seed = std::to_string(random() % 100000);
    SCOPED_TRACE("seed " + seed);
    const std::vector<std::string> program = {FaultProgram("sigkill"), seed};
    const auto plain = RunBounded(program);
    ASSERT_EQ(plain.exit_code, 128 + SIGKILL);
    ASSERT_EQ(plain.out, "started\n");
    const std::string trace = dir.File("kill" + std::to_string(i) + ".trace");
    const auto recorded =
        RunBounded({TierscopeBin(), "record", "-o", trace, "--", program[0], program[1]});
    EXPECT_FALSE(recorded.hung) << "hung under tierscope record";
    EXPECT_EQ(recorded.exit_code, 128 + SIGKILL) << recorded.err;
    EXPECT_EQ(recorded.out, plain.out);
    ExpectSaidOnce(TierscopeLines(recorded.err), {}, "tierscope record");
    ExpectCompleteChunksUpToTheEnd(trace);
    const auto placed = RunBounded({TierscopeBin(), "run", "--profile", dir.File("churn.tsp"),
                                    "--tiers", kTwoTiers, "--", program[0], program[1]});
    EXPECT_FALSE(placed.hung) << "hung under tierscope run";
    EXPECT_EQ(placed.exit_code, 128 + SIGKILL) << placed.err;
    EXPECT_EQ(placed.out, plain.out);
  }
}

// A small tmpfs of our own (we run as root), unmounted at the end.
class SmallDisk {
 public:
  SmallDisk(const TempDir& dir, const char* size) : path_(dir.File("small")) {
    std::filesystem::create_directory(path_);
    mounted_ =
        mount("tmpfs", path_.c_str(), "tmpfs", 0, (std::string("size=") + size).c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Fills what is left (the last write fails with ENOSPC).
  void Fill() const {
    std::system(("dd if=/dev/zero of=" + File("filler") + " bs=4k 2>/dev/null").c_str());
  }

 private:
  std::string path_;
  bool mounted_ = false;
};

// `tierscope run --stats STATS` (STATS on a failing disk) of `program` under the churn plan:
// the program runs as plain and one line names the stats file and `reason`.
void ExpectStatsFailureSaidOnce(const TempDir& dir, const std::string& stats,
                                const std::vector<std::string>& program, const BoundedRun& plain,
                                const std::string& reason) {
  const auto placed =
      RunBounded({TierscopeBin(), "run", "--profile", dir.File("churn.tsp"), "--tiers", kTwoTiers,
                  "--stats", stats, "--", program[0], program[1], program[2]});
  EXPECT_FALSE(placed.hung) << "hung under tierscope run";
  EXPECT_EQ(placed.exit_code, 0) << placed.err;
  EXPECT_EQ(placed.out, plain.out);
  ExpectSaidOnce(TierscopeLines(placed.err),
                 {"cannot write the stats file " + stats + ": " + reason}, "tierscope run --stats");
}

// The trace's disk fills up: the program runs on unchanged, the trace keeps what was written
// before (complete chunks), and the recorder says so in one line naming the error.
TEST(Faults, TraceOnAFullDisk) {
  TempDir dir;
  const SmallDisk disk(dir, "256k");
  ASSERT_TRUE(disk.mounted()) << "mount -t tmpfs: " << std::strerror(errno) << " (needs root)";
  const std::vector<std::string> program = {FaultProgram("churn"), "300000", "2"};
  const auto plain = RunBounded(program);
  ASSERT_EQ(plain.exit_code, 0);
  const std::string trace = disk.File("t.trace");
  const auto recorded =
      RunBounded({TierscopeBin(), "record", "-o", trace, "--", program[0], program[1], program[2]});
  EXPECT_FALSE(recorded.hung) << "hung under tierscope record";
  EXPECT_EQ(recorded.exit_code, 0) << recorded.err;
  EXPECT_EQ(recorded.out, plain.out);
  ExpectSaidOnce(TierscopeLines(recorded.err), {"No space left on device"}, "tierscope record");
  ExpectCompleteChunksUpToTheEnd(trace);

  // The placer's stats and learned sites on a disk with no room left: one line each.
  ASSERT_NO_FATAL_FAILURE(PlanFromChurn(dir));
  std::filesystem::remove(trace);
  disk.Fill();
  ExpectStatsFailureSaidOnce(dir, disk.File("stats.json"), program, plain,
                             "No space left on device");
  const auto learned =
      RunBounded({TierscopeBin(), "run", "--tiers", kTwoTiers, "--learn", disk.File("learned.tsp"),
                  "--", program[0], program[1], program[2]});
  EXPECT_FALSE(learned.hung) << "hung under tierscope run --learn";
  EXPECT_EQ(learned.exit_code, 0) << learned.err;
  EXPECT_EQ(learned.out, plain.out);
  ExpectSaidOnce(TierscopeLines(learned.err),
                 {"learned.tsp: byte 0: write: No space left on device"}, "tierscope run --learn");
}

// A FUSE file system of our own (programs/eio_fs.cc) that takes the first LIMIT bytes of a file
// and fails every later write with EIO; unmounted at the end (its server then exits).
class FailingDisk {
 public:
  FailingDisk(const TempDir& dir, uint64_t limit) : path_(dir.File("eio")) {
    std::filesystem::create_directory(path_);
    const auto r = RunBounded({FaultProgram("eio_fs"), path_, std::to_string(limit)});
    mounted_ = r.exit_code == 0;
    error_ = r.err;
  }
  ~FailingDisk() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_, error_;
  bool mounted_ = false;
};

// The trace's disk fails with EIO after 64 KiB: as with a full disk, the program runs on
// unchanged and one line names the error; so for the placer's stats (EIO from the first byte).
TEST(Faults, TraceOnADiskThatFailsWithEio) {
  TempDir dir;
  const std::vector<std::string> program = {FaultProgram("churn"), "300000", "2"};
  const auto plain = RunBounded(program);
  ASSERT_EQ(plain.exit_code, 0);
  {
    const FailingDisk disk(dir, 64 << 10);
    ASSERT_TRUE(disk.mounted()) << disk.error();
    const auto recorded = RunBounded({TierscopeBin(), "record", "-o", disk.File("t.trace"), "--",
                                      program[0], program[1], program[2]});
    EXPECT_FALSE(recorded.hung) << "hung under tierscope record";
    EXPECT_EQ(recorded.exit_code, 0) << recorded.err;
    EXPECT_EQ(recorded.out, plain.out);
    ExpectSaidOnce(TierscopeLines(recorded.err), {"write: Input/output error"}, "tierscope record");
  }
  ASSERT_NO_FATAL_FAILURE(PlanFromChurn(dir));
  const FailingDisk disk(dir, 0);
  ASSERT_TRUE(disk.mounted()) << disk.error();
  ExpectStatsFailureSaidOnce(dir, disk.File("stats.json"), program, plain, "Input/output error");
}

// `tierscope run --learn` on a program that forks: every process writes its own sites (the last
// one to exit overwrote the others' file).
TEST(Faults, LearnedSitesOfForkedChildrenDoNotOverwriteEachOther) {
  TempDir dir;
  const auto learned =
      RunBounded({TierscopeBin(), "run", "-q", "--tiers", kTwoTiers, "--learn", dir.File("l.tsp"),
                  "--", FaultProgram("fork_threads"), "5", "1"});
  EXPECT_FALSE(learned.hung);
  EXPECT_EQ(learned.exit_code, 0) << learned.err;
  EXPECT_EQ(learned.out, "forks 5 bad 0\n");
  EXPECT_TRUE(std::filesystem::exists(dir.File("l.tsp")));
  // l.PID.tsp from each child that ends with exit() (children 0 and 3; the others _exit, which
  // runs no destructor, the placer's included).
  EXPECT_EQ(FilesNamed(dir, "l.", ".tsp"), 2u);
}

// The program is rebuilt (here: replaced by another binary at the same path, whose main covers
// the recorded offsets: the old symbolizer named them "main") between record and
// analyze: the symbolizer must not name its frames with the new file's functions, and says once
// which module it left unnamed.
TEST(Faults, ABinaryRebuiltAfterTheRecordingIsNotSymbolizedWithWrongNames) {
  TempDir dir;
  const std::string program = dir.File("prog");
  std::filesystem::copy_file(FaultProgram("churn"), program);
  ASSERT_EQ(RunBounded({TierscopeBin(), "record", "-q", "-o", dir.File("t.trace"), "--", program,
                        "2000", "1"})
                .exit_code,
            0);
  std::filesystem::copy_file(FaultProgram("exec_chain"), program,
                             std::filesystem::copy_options::overwrite_existing);
  const auto analyzed =
      RunBounded({TierscopeBin(), "analyze", dir.File("t.trace"), "-o", dir.File("p.tsp")});
  ASSERT_EQ(analyzed.exit_code, 0) << analyzed.err;
  ExpectSaidOnce(TierscopeLines(analyzed.err), {program + " here is another build"},
                 "tierscope analyze");
  const auto profile = formats::LoadProfile(dir.File("p.tsp"));
  size_t in_program = 0;
  for (const auto& site : profile.sites()) {
    for (const auto& loc : site.stack()) {
      if (loc.module() != program) continue;
      ++in_program;
      EXPECT_EQ(loc.lines_size(), 0) << loc.lines(0).function();
    }
  }
  EXPECT_GT(in_program, 0u);
}

// protobuf registers every generated file in one process-wide pool by its path, and a second
// file of one path is fatal at load time. A program with files of its own at the paths tierscope's
// once had, "proto/trace.proto" and "proto/profile.proto", was killed at start by the preloaded
// recorder and placer.
TEST(Faults, AProgramWithProtobufFilesAtTheFormatsOldPaths) {
  TempDir dir;
  const auto r = RunThreeWays(dir, {{FaultProgram("proto_user"), "2000"}});
  EXPECT_EQ(r.plain.exit_code, 0) << r.plain.err;
  EXPECT_EQ(r.plain.out, "spans 2000 sum 2004995 files trace profile\n");
}

// tierscope itself links the formats' protobuf files, which the recorder and placer bring too:
// they are one shared library (libtierscope_proto.so), registered once per process.
TEST(Faults, TierscopeItselfRecordedAndPlaced) {
  TempDir dir;
  const auto r = RunThreeWays(dir, {{TierscopeBin(), "--version"}});
  EXPECT_EQ(r.plain.exit_code, 0) << r.plain.err;
  EXPECT_EQ(r.plain.out.rfind("tierscope ", 0), 0u) << r.plain.out;
}

}  // namespace
}  // namespace tierscope::testing
