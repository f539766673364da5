// ts-lab-pages: the tier lab's placement checker, run inside the guest (static, so it needs
// nothing from the initramfs). Each subcommand prints what it sees and, given expectations,
// prints "MISMATCH: ..." and exits 1 when the kernel disagrees; 2 is a usage or system error.
//
//   ts-lab-pages topology [--nodes N] [--cpuless NODE] [--lower-tier SLOW:FAST]
//   ts-lab-pages range PID ADDR LEN [--node N]      (PID 0 = this process; ADDR in hex)
//   ts-lab-pages maps PID                           (/proc/PID/numa_maps, per mapping)
//   ts-lab-pages run [--at output|exit] [--policy-on POLICY=NODE]... [--min-pages NODE=N]...
//                    [--max-pages NODE=N]... [--min-policy-pages POLICY=N]... -- PROGRAM [ARG...]
//       runs PROGRAM and stops it at its first write to stdout (default: the examples print
//       their result after the work, before freeing) or at exit, and sums its resident pages
//       per memory policy and node from numa_maps; --policy-on: every page of the mappings
//       with that policy ("bind:1", "prefer:0", ...) is on NODE, and there is at least one;
//       --min/max-pages: 4 KiB pages on NODE in the whole process; --min-policy-pages: 4 KiB
//       pages in the mappings with POLICY, on any node. Exits 1 on a mismatch,
//       else with PROGRAM's status.
#include <sys/types.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "guest_topology.h"
#include "numa_maps.h"
#include "page_nodes.h"
#include "stop_point.h"

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

// "KEY=NUMBER" split at the last '='.
std::pair<std::string, long> KeyNumber(const char* text) {
  const char* eq = std::strrchr(text, '=');
  if (eq == nullptr || eq == text) Usage("expected KEY=NUMBER");
  return {std::string(text, eq), Number(eq + 1)};
}

int Run(int argc, char** argv) {
  std::vector<std::pair<std::string, long>> policy_on, min_pages, max_pages, min_policy_pages;
  lab::StopPoint point = lab::StopPoint::kFirstStdoutWrite;
  int i = 0;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; i += 2) {
    if (i + 1 >= argc) Usage("option needs a value");
    const std::string opt = argv[i];
    if (opt == "--at") {
      const std::string at = argv[i + 1];
      if (at != "output" && at != "exit") Usage("--at wants output or exit");
      point = at == "exit" ? lab::StopPoint::kExit : lab::StopPoint::kFirstStdoutWrite;
      continue;
    }
    auto& list = opt == "--policy-on"          ? policy_on
                 : opt == "--min-pages"        ? min_pages
                 : opt == "--max-pages"        ? max_pages
                 : opt == "--min-policy-pages" ? min_policy_pages
                                               : (Usage("unknown run option"), policy_on);
    list.push_back(KeyNumber(argv[i + 1]));
  }
  if (i + 1 >= argc) Usage("run wants -- PROGRAM [ARG...]");
  std::vector<std::string> program(argv + i + 1, argv + argc);

  // Pages per policy and node, and per node overall, at the stop.
  std::map<std::string, std::map<int, long>> by_policy;
  std::map<int, long> by_node;
  bool seen = false;
  std::string error;
  const int status = lab::RunStoppingAt(
      program, point,
      [&](pid_t pid) {
        std::vector<lab::NumaMapping> maps;
        if (!lab::ReadNumaMaps(pid, &maps, &error)) return;
        seen = true;
        for (const auto& m : maps) {
          for (const auto& [node, pages] : m.pages) {
            // In base pages, so huge and base mappings add up.
            const long base = pages * (m.page_kb / 4);
            by_policy[m.policy][node] += base;
            by_node[node] += base;
          }
        }
      },
      &error);
  if (status < 0 || !seen) SystemError(error.empty() ? "no numa_maps at the stop" : error);
  for (const auto& [policy, nodes] : by_policy) {
    std::printf("pages of policy %s:", policy.c_str());
    for (const auto& [node, pages] : nodes) std::printf(" node%d=%ld", node, pages);
    std::printf(" (4 KiB pages)\n");
  }
  int mismatches = 0;
  auto check = [&](bool ok, const std::string& what) {
    std::printf("%s: %s\n", ok ? "ok" : "MISMATCH", what.c_str());
    if (!ok) ++mismatches;
  };
  for (const auto& [policy, node] : policy_on) {
    const auto it = by_policy.find(policy);
    long elsewhere = 0, on = 0;
    if (it != by_policy.end()) {
      for (const auto& [n, pages] : it->second) (n == node ? on : elsewhere) += pages;
    }
    check(on > 0 && elsewhere == 0,
          "mappings with policy " + policy + " have " + std::to_string(on) + " pages on node " +
              std::to_string(node) + " and " + std::to_string(elsewhere) + " elsewhere");
  }
  for (const auto& [node, pages] : min_pages) {
    const long have = by_node.count(std::stoi(node)) ? by_node[std::stoi(node)] : 0;
    check(have >= pages, "node " + node + " holds " + std::to_string(have) +
                             " pages, want >= " + std::to_string(pages));
  }
  for (const auto& [node, pages] : max_pages) {
    const long have = by_node.count(std::stoi(node)) ? by_node[std::stoi(node)] : 0;
    check(have <= pages, "node " + node + " holds " + std::to_string(have) +
                             " pages, want <= " + std::to_string(pages));
  }
  for (const auto& [policy, pages] : min_policy_pages) {
    long have = 0;
    if (by_policy.count(policy)) {
      for (const auto& [node, n] : by_policy[policy]) have += n;
    }
    check(have >= pages, "mappings with policy " + policy + " hold " + std::to_string(have) +
                             " pages, want >= " + std::to_string(pages));
  }
  if (mismatches > 0) return 1;
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage("no subcommand");
  const std::string sub = argv[1];
  if (sub == "topology") return Topology(argc - 2, argv + 2);
  if (sub == "range") return Range(argc - 2, argv + 2);
  if (sub == "maps") return Maps(argc - 2, argv + 2);
  if (sub == "run") return Run(argc - 2, argv + 2);
  Usage("unknown subcommand");
}
