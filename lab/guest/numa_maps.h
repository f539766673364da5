// /proc/PID/numa_maps: one line per mapping with its memory policy and pages per node, e.g.
// "7f12a0000000 bind:1 anon=1024 dirty=1024 N1=1024 kernelpagesize_kB=4". The view of a process
// from outside that needs no addresses from it: which mappings are bound where, and where
// their pages landed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tierscope::lab {

struct NumaMapping {
  uintptr_t start = 0;
  std::string policy;         // "default", "bind:1", "prefer:0", "interleave:0-1", ...
  std::map<int, long> pages;  // node -> pages (in kernelpagesize_kB units)
  long page_kb = 4;
  std::string path;  // file= or heap/stack, empty for anonymous
};

// Parses numa_maps text; lines it cannot read are skipped.
std::vector<NumaMapping> ParseNumaMaps(const std::string& text);

// Reads /proc/PID/numa_maps (pid 0: self). False and a one-line reason on failure.
bool ReadNumaMaps(pid_t pid, std::vector<NumaMapping>* maps, std::string* error);

}  // namespace tierscope::lab
