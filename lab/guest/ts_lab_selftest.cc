// ts-lab-selftest: proves the tier lab can see placement. It binds one region to node 1 and one
// to node 0 with mbind(2), leaves a third to first touch, touches all three, then checks where
// the kernel put every page, three independent ways: move_pages from inside, move_pages on this
// process from another process (how the lab inspects a program it did not write), and
// /proc/self/numa_maps. Exit 0 when every check holds, 1 with "MISMATCH: ..." lines otherwise,
// 2 on a system error.
//
// --negative-control additionally claims that the node-0 region is on node 1: the run must then
// fail with exactly that mismatch, which shows the checks can fail.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "guest_topology.h"
#include "numa_maps.h"
#include "numa_syscalls.h"
#include "page_nodes.h"

namespace lab = tierscope::lab;

namespace {

constexpr size_t kRegionBytes = 8u << 20;  // 2048 pages: many pages, still quick under TCG

struct Region {
  const char* name;
  int bind_node;  // -1: default policy (first touch)
  char* base = nullptr;
};

int mismatches = 0;

void Check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "MISMATCH", what.c_str());
  if (!ok) ++mismatches;
}

[[noreturn]] void SystemError(const std::string& why) {
  std::fprintf(stderr, "ts-lab-selftest: %s: %s\n", why.c_str(), std::strerror(errno));
  std::exit(2);
}

void MapBindTouch(Region* r) {
  void* p = mmap(nullptr, kRegionBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) SystemError("mmap");
  // Base pages, so each page's node is its own (a huge page would make 512 of them one answer).
  if (madvise(p, kRegionBytes, MADV_NOHUGEPAGE) != 0) SystemError("madvise");
  if (r->bind_node >= 0) {
    unsigned long mask = 1ul << r->bind_node;
    if (lab::SysMbind(p, kRegionBytes, MPOL_BIND, &mask, sizeof(mask) * 8, 0) != 0)
      SystemError("mbind");
  }
  std::memset(p, 0x5a, kRegionBytes);
  r->base = static_cast<char*>(p);
}

// Where the pages of `r` are, as seen by move_pages on process `pid` (0 = self).
lab::NodeCounts Where(pid_t pid, const Region& r) {
  std::vector<int> nodes;
  std::string error;
  if (!lab::PageNodes(pid, reinterpret_cast<uintptr_t>(r.base), kRegionBytes, &nodes, &error)) {
    std::fprintf(stderr, "ts-lab-selftest: %s\n", error.c_str());
    std::exit(2);
  }
  return lab::CountNodes(nodes);
}

void ExpectOn(pid_t pid, const Region& r, int node, const char* how) {
  const lab::NodeCounts counts = Where(pid, r);
  Check(lab::AllOnNode(counts, node), std::string(r.name) + " region all on node " +
                                          std::to_string(node) + " (" + how +
                                          "): " + lab::FormatCounts(counts));
}

}  // namespace

int main(int argc, char** argv) {
  const bool negative = argc == 2 && std::strcmp(argv[1], "--negative-control") == 0;
  if (argc > 2 || (argc == 2 && !negative)) {
    std::fprintf(stderr, "usage: ts-lab-selftest [--negative-control]\n");
    return 2;
  }
  std::vector<lab::NodeInfo> topo;
  std::string error;
  if (!lab::ReadTopology(&topo, &error)) {
    std::fprintf(stderr, "ts-lab-selftest: %s\n", error.c_str());
    return 2;
  }
  if (topo.size() < 2) {
    Check(false, "the lab needs 2 NUMA nodes, this machine has " + std::to_string(topo.size()));
    return 1;
  }

  Region slow{"node1-bound", 1}, fast{"node0-bound", 0}, local{"first-touch", -1};
  for (Region* r : {&slow, &fast, &local}) MapBindTouch(r);

  // 1. From inside. The CPU is on node 0, so first touch lands there too.
  ExpectOn(0, slow, 1, "move_pages, self");
  ExpectOn(0, fast, 0, "move_pages, self");
  ExpectOn(0, local, 0, "move_pages, self");

  // 2. The policy the kernel recorded for the bound region.
  int mode = -1;
  unsigned long mask = 0;
  if (lab::SysGetMempolicy(&mode, &mask, sizeof(mask) * 8, slow.base, MPOL_F_ADDR) != 0) {
    SystemError("get_mempolicy");
  }
  Check(mode == MPOL_BIND && mask == 2ul, "get_mempolicy on node1-bound region: MPOL_BIND {1}");

  // 3. From another process, by pid: fork an observer that inspects its parent.
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) SystemError("fork");
  if (child == 0) {
    ExpectOn(parent, slow, 1, "move_pages, pid");
    ExpectOn(parent, fast, 0, "move_pages, pid");
    std::fflush(stdout);
    _exit(mismatches == 0 ? 0 : 1);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) SystemError("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++mismatches;

  // 4. /proc/self/numa_maps: the node-1 mapping says bind:1 and counts its pages on node 1.
  std::vector<lab::NumaMapping> maps;
  if (!lab::ReadNumaMaps(0, &maps, &error)) {
    std::fprintf(stderr, "ts-lab-selftest: %s\n", error.c_str());
    return 2;
  }
  bool found = false;
  for (const auto& m : maps) {
    if (m.start != reinterpret_cast<uintptr_t>(slow.base)) continue;
    found = true;
    const long pages = static_cast<long>(kRegionBytes / 1024 / m.page_kb);
    Check(m.policy == "bind:1" && m.pages.size() == 1 && m.pages.count(1) && m.pages.at(1) == pages,
          "numa_maps: node1-bound mapping is bind:1 with " + std::to_string(pages) +
              " pages on node 1");
  }
  Check(found, "numa_maps lists the node1-bound mapping");

  if (negative) {
    std::printf("negative control: claiming the node0-bound region is on node 1\n");
    ExpectOn(0, fast, 1, "negative control");
  }
  std::printf("%s: %d mismatch(es)\n", mismatches == 0 ? "PASS" : "FAIL", mismatches);
  return mismatches == 0 ? 0 : 1;
}
