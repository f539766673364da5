// The CLI's contract at its edges: exit codes and one-line errors.
#include <gtest/gtest.h>

#include "test_support.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::testing {
namespace {

int Lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

void ExpectOneLineError(const CommandResult& r, int code, const std::string& fragment) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("tierscope: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

TEST(Cli, VersionAndHelpSucceed) {
  auto version = RunCommand({TierscopeBin(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("tierscope ", 0), 0u) << version.out;
  auto help = RunCommand({TierscopeBin(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("dump"), std::string::npos);
  auto sub_help = RunCommand({TierscopeBin(), "dump", "--help"});
  EXPECT_EQ(sub_help.exit_code, 0);
  EXPECT_NE(sub_help.out.find("--max-events"), std::string::npos);
}

TEST(Cli, NoSubcommandIsAUsageError) {
  ExpectOneLineError(RunCommand({TierscopeBin()}), 2, "subcommand");
}

TEST(Cli, UnknownSubcommandIsNamed) {
  ExpectOneLineError(RunCommand({TierscopeBin(), "frobnicate"}), 2,
                     "unknown subcommand 'frobnicate'");
}

TEST(Cli, UnknownFlagIsNamed) {
  ExpectOneLineError(RunCommand({TierscopeBin(), "dump", "--bogus", "x"}), 2, "--bogus");
}

TEST(Cli, MissingArgumentIsNamed) {
  ExpectOneLineError(RunCommand({TierscopeBin(), "dump"}), 2, "file");
}

TEST(Cli, BadFlagValueIsNamed) {
  ExpectOneLineError(RunCommand({TierscopeBin(), "dump", "--max-events", "lots", "x"}), 2,
                     "--max-events");
}

TEST(Cli, UnreadablePathsAreUsageErrors) {
  TempDir dir;
  ExpectOneLineError(RunCommand({TierscopeBin(), "dump", dir.File("missing")}), 2,
                     dir.File("missing") + ": No such file or directory");
  ExpectOneLineError(RunCommand({TierscopeBin(), "dump", dir.path()}), 2, "is a directory");
}

TEST(Cli, DumpShowsAFileAndReportsDamageWithOffset) {
  TempDir dir;
  {
    formats::TraceWriter writer(dir.File("t"));
    trace::TraceChunk chunk;
    chunk.mutable_header()->set_pid(4242);
    writer.Append(chunk);
    chunk.Clear();
    for (int i = 0; i < 100; ++i) chunk.add_stacks()->set_id(i);
    writer.Append(chunk);
    writer.Close();
  }
  auto ok = RunCommand({TierscopeBin(), "dump", dir.File("t")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("kind: trace"), std::string::npos);
  EXPECT_NE(ok.out.find("--- 2 chunks"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("pid: 4242"), std::string::npos) << ok.out;

  const std::string bytes = ReadBytes(dir.File("t"));
  WriteBytes(dir.File("cut"), bytes.substr(0, bytes.size() - 3));
  auto cut = RunCommand({TierscopeBin(), "dump", dir.File("cut")});
  ExpectOneLineError(cut, 1, "truncated");
  EXPECT_NE(cut.err.find(dir.File("cut") + ": byte "), std::string::npos);
  EXPECT_NE(cut.out.find("--- chunk 0"), std::string::npos) << "the good chunk is still shown";

  WriteBytes(dir.File("zeros"), std::string(4096, '\0'));
  ExpectOneLineError(RunCommand({TierscopeBin(), "dump", dir.File("zeros")}), 1, "bad magic");
  WriteBytes(dir.File("empty"), "");
  ExpectOneLineError(RunCommand({TierscopeBin(), "dump", dir.File("empty")}), 1, "empty file");
}

}  // namespace
}  // namespace tierscope::testing
