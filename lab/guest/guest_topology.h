// The guest's memory topology as the kernel sees it: NUMA nodes, their CPUs, and the memory
// tier each node is in (/sys/devices/virtual/memory_tiering, kernel 6.1+; a higher tier number
// is a slower tier).
#pragma once

#include <string>
#include <vector>

namespace tierscope::lab {

struct NodeInfo {
  int id = -1;
  std::vector<int> cpus;  // empty for a CPU-less (memory-only) node
  long mem_total_kb = 0;
  int tier = -1;  // memory_tierN's N, -1 when the kernel has no memory tiering
};

// Online nodes, by id. Returns false and a one-line reason when sysfs cannot be read.
bool ReadTopology(std::vector<NodeInfo>* nodes, std::string* error);

// Parses a kernel list such as "0-3,8,10-11"; false on malformed input.
bool ParseIdList(const std::string& text, std::vector<int>* ids);

}  // namespace tierscope::lab
