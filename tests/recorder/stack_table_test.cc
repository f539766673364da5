// The lock-free stack table: the same stack always gets the same id, different stacks different
// ids, from any number of threads at once; ids are dense and readable back.
#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <vector>

#include "runtime/stack_table.h"

namespace tierscope::recorder {
namespace {

std::vector<uint64_t> StackNumber(uint32_t n) {
  std::vector<uint64_t> frames(1 + n % 20);
  for (size_t i = 0; i < frames.size(); ++i) frames[i] = 0x400000 + n * 64 + i * 8;
  return frames;
}

TEST(StackTable, SameStackSameIdAcrossThreads) {
  StackTable table;
  ASSERT_TRUE(table.Init(1 << 16, 1 << 20));
  constexpr int kThreads = 4, kStacks = 4999;  // prime: every walk below is a permutation
  std::vector<std::vector<uint32_t>> ids(kThreads, std::vector<uint32_t>(kStacks));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread walks the stacks in a different order, so inserts race.
      for (int i = 0; i < kStacks; ++i) {
        const uint32_t n = static_cast<uint32_t>((i * (2 * t + 1) + t * 977) % kStacks);
        const auto frames = StackNumber(n);
        ids[t][n] = table.Intern(frames.data(), static_cast<uint32_t>(frames.size()), n % 7 == 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::map<uint32_t, uint32_t> stack_of_id;
  for (int n = 0; n < kStacks; ++n) {
    ASSERT_NE(ids[0][n], 0u);
    for (int t = 1; t < kThreads; ++t) ASSERT_EQ(ids[t][n], ids[0][n]) << "stack " << n;
    EXPECT_TRUE(stack_of_id.emplace(ids[0][n], n).second) << "id reused " << ids[0][n];
  }
  EXPECT_EQ(table.max_id(), static_cast<uint32_t>(kStacks));  // dense: 1..kStacks
  for (const auto& [id, n] : stack_of_id) {
    const uint64_t* frames;
    uint32_t depth;
    bool truncated;
    ASSERT_TRUE(table.Get(id, &frames, &depth, &truncated));
    const auto want = StackNumber(n);
    ASSERT_EQ(depth, want.size());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), frames));
    EXPECT_EQ(truncated, n % 7 == 0);
  }
  EXPECT_FALSE(table.Get(kStacks + 1, nullptr, nullptr, nullptr));
  EXPECT_EQ(table.full_count(), 0u);
}

TEST(StackTable, TruncationIsPartOfTheIdentity) {
  StackTable table;
  ASSERT_TRUE(table.Init(64, 1024));
  const uint64_t frames[] = {1, 2, 3};
  const uint32_t a = table.Intern(frames, 3, false);
  const uint32_t b = table.Intern(frames, 3, true);
  EXPECT_NE(a, b);
  EXPECT_EQ(table.Intern(frames, 3, false), a);
  EXPECT_NE(table.Intern(frames, 2, false), a);
}

TEST(StackTable, FullTableReturnsZeroAndCounts) {
  StackTable table;
  ASSERT_TRUE(table.Init(16, 1 << 10));  // at most 8 ids
  uint32_t zeros = 0;
  for (uint64_t i = 1; i <= 20; ++i) zeros += table.Intern(&i, 1, false) == 0;
  EXPECT_EQ(zeros, 12u);
  EXPECT_EQ(table.full_count(), 12u);
}

}  // namespace
}  // namespace tierscope::recorder
