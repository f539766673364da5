#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tierscope/cli/subcommand.h"

namespace tierscope::cli {

void RequireReadable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    throw UsageError(path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) throw UsageError(path + ": is a directory");
  if (::access(path.c_str(), R_OK) != 0) throw UsageError(path + ": " + std::strerror(errno));
}

void RequireWritable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw UsageError(path + ": is a directory");
    if (::access(path.c_str(), W_OK) != 0) throw UsageError(path + ": " + std::strerror(errno));
    return;
  }
  // The file does not exist yet: its folder must take a new file.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash ? slash : 1);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw UsageError(path + ": folder " + dir + " does not exist");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw UsageError(path + ": cannot create a file in " + dir + ": " + std::strerror(errno));
  }
}

}  // namespace tierscope::cli
