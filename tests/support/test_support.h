// Helpers shared by every test: temp folders, file bytes, running the built programs.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tierscope::testing {

// A file in a fresh temp folder, removed with the folder at destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tierscope-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// How many times `what` occurs in `text` (a message said once, not once per process).
inline int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), bytes.size());
}

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with extra environment entries "K=V", captures stdout and stderr.
// argv and the environment (this process's plus `env`) as posix_spawn takes them.
class SpawnArgs {
 public:
  SpawnArgs(const std::vector<std::string>& argv, const std::vector<std::string>& env);
  char* const* argv() { return argv_.data(); }
  char* const* envp() { return envp_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> argv_, envp_;
};

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {}, const std::string& input = "");

// Paths of the build, fixed at configure time.
std::string TierscopeBin();                       // the `tierscope` binary
std::string BuildDir();                           // the CMake build folder
std::string SourceDir();                          // the repository
std::string ExampleBin(const std::string& name);  // e.g. "ts-example-kvcache"

}  // namespace tierscope::testing
