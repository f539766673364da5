// Runs a program to a point where its memory can be inspected from outside: the lab's view of a
// program it did not write (ts-example-kvcache under the placer). Uses ptrace, so the program
// runs unchanged.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace tierscope::lab {

enum class StopPoint {
  // The main thread's first write(2) to stdout. The examples print their result after all their
  // work and before freeing their data, so every site's memory is live and touched here.
  kFirstStdoutWrite,
  // The main thread entering exit, before the kernel tears the address space down.
  kExit,
};

// Starts argv (argv[0] a path, else looked up in PATH) with this process's stdio and calls
// `inspect(pid)` once, with the program stopped at `point`. Returns the program's exit status
// (128 + signal when killed), or -1 with a one-line reason in *error when it could not be run or
// ended without reaching the point.
int RunStoppingAt(const std::vector<std::string>& argv, StopPoint point,
                  const std::function<void(pid_t)>& inspect, std::string* error);

}  // namespace tierscope::lab
