#include "page_nodes.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "numa_syscalls.h"

namespace tierscope::lab {

bool PageNodes(pid_t pid, uintptr_t addr, size_t len, std::vector<int>* nodes, std::string* error) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = addr & ~(page - 1);
  const size_t count = len == 0 ? 0 : (addr + len - first + page - 1) / page;
  std::vector<void*> pages(count);
  for (size_t i = 0; i < count; ++i) pages[i] = reinterpret_cast<void*>(first + i * page);
  nodes->assign(count, 0);
  // Batches keep the kernel's temporary arrays small for large ranges.
  constexpr size_t kBatch = 16384;
  for (size_t i = 0; i < count; i += kBatch) {
    const size_t n = count - i < kBatch ? count - i : kBatch;
    if (SysMovePages(pid, n, pages.data() + i, nullptr, nodes->data() + i, 0) != 0) {
      *error = std::string("move_pages: ") + std::strerror(errno);
      return false;
    }
  }
  return true;
}

NodeCounts CountNodes(const std::vector<int>& nodes) {
  NodeCounts counts;
  for (int n : nodes) ++counts[n];
  return counts;
}

std::string FormatCounts(const NodeCounts& counts) {
  std::string out;
  for (const auto& [node, pages] : counts) {
    if (!out.empty()) out += ' ';
    if (node >= 0) {
      out += "node";
      out += std::to_string(node);
    } else {
      const char* name = node == -ENOENT ? "ENOENT" : node == -EFAULT ? "EFAULT" : nullptr;
      out += "absent(";
      out += name ? name : "errno " + std::to_string(-node);
      out += ")";
    }
    out += '=';
    out += std::to_string(pages);
  }
  return out.empty() ? "no pages" : out;
}

bool AllOnNode(const NodeCounts& counts, int node) {
  return counts.size() == 1 && counts.begin()->first == node;
}

}  // namespace tierscope::lab
