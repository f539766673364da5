#include "test_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tierscope::testing {

CommandResult RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const std::string& input) {
  TempDir dir;
  const std::string in_path = dir.File("stdin"), out_path = dir.File("stdout"),
                    err_path = dir.File("stderr");
  WriteBytes(in_path, input);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  SpawnArgs args(argv, env);
  pid_t pid;
  CommandResult result;
  if (posix_spawn(&pid, args.argv()[0], &actions, nullptr, args.argv(), args.envp()) != 0) {
    result.err = "cannot start " + argv[0];
    posix_spawn_file_actions_destroy(&actions);
    return result;
  }
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadBytes(out_path);
  result.err = ReadBytes(err_path);
  return result;
}

SpawnArgs::SpawnArgs(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  strings_ = argv;
  for (char** e = environ; *e; ++e) strings_.emplace_back(*e);
  for (const auto& e : env) strings_.push_back(e);
  // strings_ no longer grows: pointers into it stay valid.
  for (size_t i = 0; i < argv.size(); ++i) argv_.push_back(strings_[i].data());
  argv_.push_back(nullptr);
  for (size_t i = argv.size(); i < strings_.size(); ++i) envp_.push_back(strings_[i].data());
  envp_.push_back(nullptr);
}

std::string TierscopeBin() {
  return BuildDir() + "/bin/tierscope";
}
std::string BuildDir() {
  return TIERSCOPE_BUILD_DIR;
}
std::string SourceDir() {
  return TIERSCOPE_SOURCE_DIR;
}
std::string ExampleBin(const std::string& name) {
  return BuildDir() + "/examples/" + name;
}

}  // namespace tierscope::testing
