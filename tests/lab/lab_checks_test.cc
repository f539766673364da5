// The tier lab's checkers on the host: their parsers, and move_pages on this process (the
// host may have one node; its pages must still be found, present and on a real node).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "guest_topology.h"
#include "numa_maps.h"
#include "page_nodes.h"

namespace lab = tierscope::lab;

TEST(LabChecks, ParsesKernelIdLists) {
  std::vector<int> ids;
  ASSERT_TRUE(lab::ParseIdList("0-2,5,7-8\n", &ids));
  EXPECT_EQ(ids, (std::vector<int>{0, 1, 2, 5, 7, 8}));
  ASSERT_TRUE(lab::ParseIdList("", &ids));
  EXPECT_TRUE(ids.empty());
  EXPECT_FALSE(lab::ParseIdList("x", &ids));
}

TEST(LabChecks, ParsesNumaMaps) {
  const auto maps = lab::ParseNumaMaps(
      "7f0000000000 bind:1 anon=10 dirty=10 N1=10 kernelpagesize_kB=4\n"
      "55aa00000000 default file=/usr/bin/x mapped=3 N0=2 N1=1 kernelpagesize_kB=4\n"
      "garbage line\n"
      "7ffc00000000 prefer:0 stack anon=2 N0=2 kernelpagesize_kB=2048\n");
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[0].start, 0x7f0000000000u);
  EXPECT_EQ(maps[0].policy, "bind:1");
  EXPECT_EQ(maps[0].pages, (std::map<int, long>{{1, 10}}));
  EXPECT_EQ(maps[1].path, "/usr/bin/x");
  EXPECT_EQ(maps[1].pages, (std::map<int, long>{{0, 2}, {1, 1}}));
  EXPECT_EQ(maps[2].path, "stack");
  EXPECT_EQ(maps[2].page_kb, 2048);
}

TEST(LabChecks, FindsTouchedPagesAndReportsUntouchedOnes) {
  const size_t bytes = 64 * 4096;
  char* p = static_cast<char*>(
      mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_EQ(madvise(p, bytes, MADV_NOHUGEPAGE), 0);
  std::memset(p, 1, bytes / 2);  // the second half is never touched
  std::vector<int> nodes;
  std::string error;
  ASSERT_TRUE(lab::PageNodes(0, reinterpret_cast<uintptr_t>(p), bytes, &nodes, &error)) << error;
  ASSERT_EQ(nodes.size(), 64u);
  std::vector<lab::NodeInfo> topo;
  ASSERT_TRUE(lab::ReadTopology(&topo, &error)) << error;
  for (size_t i = 0; i < 32; ++i) {
    EXPECT_GE(nodes[i], 0) << "page " << i;
    EXPECT_LT(nodes[i], static_cast<int>(topo.size() + 64)) << "page " << i;
  }
  for (size_t i = 32; i < 64; ++i) EXPECT_LT(nodes[i], 0) << "page " << i;
  const auto counts = lab::CountNodes(std::vector<int>(nodes.begin(), nodes.begin() + 32));
  EXPECT_EQ(counts.size(), 1u) << lab::FormatCounts(counts);  // one node: this process's
  EXPECT_EQ(lab::FormatCounts({{0, 3}, {-ENOENT, 1}}), "absent(ENOENT)=1 node0=3");
  munmap(p, bytes);
}
