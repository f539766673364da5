#include "guest_topology.h"

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tierscope::lab {
namespace {

bool ReadLine(const std::string& path, std::string* line) {
  std::ifstream in(path);
  if (!in) return false;
  std::getline(in, *line);
  return true;
}

std::vector<std::string> Entries(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind(prefix, 0) == 0 && name.size() > prefix.size() &&
          std::all_of(name.begin() + prefix.size(), name.end(), ::isdigit)) {
        names.push_back(name);
      }
    }
    closedir(d);
  }
  return names;
}

}  // namespace

bool ParseIdList(const std::string& text, std::vector<int>* ids) {
  ids->clear();
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty() || part == "\n") continue;
    int lo = 0, hi = 0;
    char dash = 0;
    if (std::sscanf(part.c_str(), "%d%c%d", &lo, &dash, &hi) == 3 && dash == '-' && lo <= hi) {
      for (int i = lo; i <= hi; ++i) ids->push_back(i);
    } else if (std::sscanf(part.c_str(), "%d", &lo) == 1) {
      ids->push_back(lo);
    } else {
      return false;
    }
  }
  return true;
}

bool ReadTopology(std::vector<NodeInfo>* nodes, std::string* error) {
  const std::string base = "/sys/devices/system/node/";
  std::string online;
  std::vector<int> ids;
  if (!ReadLine(base + "online", &online) || !ParseIdList(online, &ids)) {
    *error = "cannot read " + base + "online";
    return false;
  }
  nodes->clear();
  for (int id : ids) {
    NodeInfo node;
    node.id = id;
    const std::string dir = base + "node" + std::to_string(id) + "/";
    std::string cpus;
    if (!ReadLine(dir + "cpulist", &cpus) || !ParseIdList(cpus, &node.cpus)) {
      *error = "cannot read " + dir + "cpulist";
      return false;
    }
    std::ifstream meminfo(dir + "meminfo");
    for (std::string line; std::getline(meminfo, line);) {
      // "Node 1 MemTotal:         262144 kB"
      if (auto at = line.find("MemTotal:"); at != std::string::npos) {
        node.mem_total_kb = std::atol(line.c_str() + at + 9);
      }
    }
    nodes->push_back(node);
  }
  const std::string tiers = "/sys/devices/virtual/memory_tiering/";
  for (const std::string& name : Entries(tiers, "memory_tier")) {
    std::string list;
    std::vector<int> members;
    if (!ReadLine(tiers + name + "/nodelist", &list) || !ParseIdList(list, &members)) continue;
    const int tier = std::atoi(name.c_str() + 11);
    for (NodeInfo& node : *nodes) {
      if (std::find(members.begin(), members.end(), node.id) != members.end()) node.tier = tier;
    }
  }
  return true;
}

}  // namespace tierscope::lab
