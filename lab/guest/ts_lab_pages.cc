// ts-lab-pages: the tier lab's placement checker, run inside the guest (static, so it needs
// nothing from the initramfs). Each subcommand prints what it sees and, given expectations,
// prints "MISMATCH: ..." and exits 1 when the kernel disagrees; 2 is a usage or system error.
//
//   ts-lab-pages topology [--nodes N] [--cpuless NODE] [--lower-tier SLOW:FAST]
//   ts-lab-pages range PID ADDR LEN [--node N]      (PID 0 = this process; ADDR in hex)
//   ts-lab-pages maps PID                           (/proc/PID/numa_maps, per mapping)
#include <sys/types.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "numa_maps.h"
#include "page_nodes.h"
#include "topology.h"

namespace lab = tierscope::lab;

namespace {

[[noreturn]] void Usage(const char* why) {
  std::fprintf(
      stderr,
      "ts-lab-pages: %s\n"
      "usage: ts-lab-pages topology [--nodes N] [--cpuless NODE] [--lower-tier SLOW:FAST]\n"
      "       ts-lab-pages range PID ADDR LEN [--node N]\n"
      "       ts-lab-pages maps PID\n",
      why);
  std::exit(2);
}

[[noreturn]] void SystemError(const std::string& why) {
  std::fprintf(stderr, "ts-lab-pages: %s\n", why.c_str());
  std::exit(2);
}

long Number(const char* text, int base = 10) {
  char* end = nullptr;
  long v = std::strtol(text, &end, base);
  if (end == text || *end != '\0' || v < 0) Usage("not a number");
  return v;
}

const lab::NodeInfo* Find(const std::vector<lab::NodeInfo>& nodes, long id) {
  for (const auto& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

int Topology(int argc, char** argv) {
  std::vector<lab::NodeInfo> nodes;
  std::string error;
  if (!lab::ReadTopology(&nodes, &error)) SystemError(error);
  for (const auto& n : nodes) {
    std::string cpus;
    for (int c : n.cpus) {
      if (!cpus.empty()) cpus += ',';
      cpus += std::to_string(c);
    }
    std::printf("node %d: cpus=%s mem=%ld kB tier=%d\n", n.id, cpus.empty() ? "none" : cpus.c_str(),
                n.mem_total_kb, n.tier);
  }
  int mismatches = 0;
  auto mismatch = [&](const std::string& what) {
    std::printf("MISMATCH: %s\n", what.c_str());
    ++mismatches;
  };
  for (int i = 0; i < argc; ++i) {
    const std::string opt = argv[i];
    if (i + 1 >= argc) Usage("option needs a value");
    const char* value = argv[++i];
    if (opt == "--nodes") {
      if (static_cast<long>(nodes.size()) != Number(value)) {
        mismatch("expected " + std::string(value) + " nodes, found " +
                 std::to_string(nodes.size()));
      }
    } else if (opt == "--cpuless") {
      const lab::NodeInfo* n = Find(nodes, Number(value));
      if (n == nullptr) {
        mismatch("node " + std::string(value) + " is not online");
      } else if (!n->cpus.empty() || n->mem_total_kb == 0) {
        mismatch("node " + std::string(value) + " is not a CPU-less memory node");
      }
    } else if (opt == "--lower-tier") {
      long slow = 0, fast = 0;
      if (std::sscanf(value, "%ld:%ld", &slow, &fast) != 2) Usage("--lower-tier wants SLOW:FAST");
      const lab::NodeInfo *s = Find(nodes, slow), *f = Find(nodes, fast);
      if (s == nullptr || f == nullptr || s->tier < 0 || f->tier < 0) {
        mismatch("no memory tier for node " + std::to_string(slow) + " or " + std::to_string(fast));
      } else if (s->tier <= f->tier) {
        mismatch("node " + std::to_string(slow) + " (tier " + std::to_string(s->tier) +
                 ") is not in a lower tier than node " + std::to_string(fast) + " (tier " +
                 std::to_string(f->tier) + ")");
      }
    } else {
      Usage("unknown topology option");
    }
  }
  if (mismatches == 0) std::printf("ok: topology\n");
  return mismatches == 0 ? 0 : 1;
}

int Range(int argc, char** argv) {
  if (argc != 3 && argc != 5) Usage("range wants PID ADDR LEN [--node N]");
  const pid_t pid = static_cast<pid_t>(Number(argv[0]));
  const uintptr_t addr = std::strtoull(argv[1], nullptr, 16);
  const size_t len = static_cast<size_t>(Number(argv[2]));
  std::vector<int> where;
  std::string error;
  if (!lab::PageNodes(pid, addr, len, &where, &error)) SystemError(error);
  const lab::NodeCounts counts = lab::CountNodes(where);
  std::printf("range %#lx+%zu: %s\n", static_cast<unsigned long>(addr), len,
              lab::FormatCounts(counts).c_str());
  if (argc == 5) {
    if (std::strcmp(argv[3], "--node") != 0) Usage("range wants PID ADDR LEN [--node N]");
    const int node = static_cast<int>(Number(argv[4]));
    if (!lab::AllOnNode(counts, node)) {
      std::printf("MISMATCH: range %#lx+%zu is not all on node %d\n",
                  static_cast<unsigned long>(addr), len, node);
      return 1;
    }
  }
  return 0;
}

int Maps(int argc, char** argv) {
  if (argc != 1) Usage("maps wants PID");
  std::vector<lab::NumaMapping> maps;
  std::string error;
  if (!lab::ReadNumaMaps(static_cast<pid_t>(Number(argv[0])), &maps, &error)) SystemError(error);
  for (const auto& m : maps) {
    if (m.pages.empty()) continue;
    std::printf("%#lx %s", static_cast<unsigned long>(m.start), m.policy.c_str());
    for (const auto& [node, pages] : m.pages) std::printf(" node%d=%ld", node, pages);
    std::printf(" pagesize=%ldkB %s\n", m.page_kb, m.path.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage("no subcommand");
  const std::string sub = argv[1];
  if (sub == "topology") return Topology(argc - 2, argv + 2);
  if (sub == "range") return Range(argc - 2, argv + 2);
  if (sub == "maps") return Maps(argc - 2, argv + 2);
  Usage("unknown subcommand");
}
