// Where pages are: the NUMA node of each page of an address range, asked of the kernel with
// move_pages(2) in query mode (nodes = NULL), which moves nothing and reports each page's node.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tierscope::lab {

// One entry per page of [addr, addr + len): the node (>= 0), or -errno for a page that is not
// there (-ENOENT: not faulted in yet, -EFAULT: not mapped). pid 0 is the calling process;
// another pid needs the rights of move_pages (root in the lab guest).
// Returns false and a one-line reason when the call itself fails.
bool PageNodes(pid_t pid, uintptr_t addr, size_t len, std::vector<int>* nodes, std::string* error);

// Pages per node (keys >= 0) or per missing reason (keys < 0).
using NodeCounts = std::map<int, size_t>;
NodeCounts CountNodes(const std::vector<int>& nodes);

// "node0=12 node1=3 absent(-ENOENT)=1": stable order, for logs and mismatch messages.
std::string FormatCounts(const NodeCounts& counts);

// True when every page is present and on `node`.
bool AllOnNode(const NodeCounts& counts, int node);

}  // namespace tierscope::lab
