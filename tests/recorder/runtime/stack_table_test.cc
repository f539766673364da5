// The lock-free stack table: the same stack always gets the same id, different stacks different
// ids, from any number of threads at once; ids are dense and readable back.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
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

// The index starts small and doubles: a short program's stacks stay in a few pages. Stacks
// inserted before a table was added keep their ids, found in the older table and copied forward.
TEST(StackTable, TheIndexGrowsAndEveryStackKeepsItsId) {
  StackTable table;
  ASSERT_TRUE(table.Init(1 << 20, 1 << 22));
  std::vector<uint32_t> ids;
  for (uint32_t n = 0; n < 1000; ++n) {
    const auto frames = StackNumber(n);
    ids.push_back(table.Intern(frames.data(), static_cast<uint32_t>(frames.size()), false));
  }
  EXPECT_EQ(table.tables(), 1u);
  for (uint32_t n = 1000; n < 40000; ++n) {
    const auto frames = StackNumber(n);
    ids.push_back(table.Intern(frames.data(), static_cast<uint32_t>(frames.size()), false));
  }
  EXPECT_GT(table.tables(), 3u);
  EXPECT_EQ(table.max_id(), 40000u);
  for (int round = 0; round < 2; ++round) {  // the second: from the newest table, after copies
    for (uint32_t n = 0; n < 40000; ++n) {
      const auto frames = StackNumber(n);
      ASSERT_EQ(table.Intern(frames.data(), static_cast<uint32_t>(frames.size()), false), ids[n])
          << "stack " << n << ", round " << round;
    }
  }
  EXPECT_EQ(table.max_id(), 40000u);
  EXPECT_EQ(table.full_count(), 0u);
  const uint64_t* frames;
  uint32_t depth;
  bool truncated;
  ASSERT_TRUE(table.Get(ids[12345], &frames, &depth, &truncated));
  const auto want = StackNumber(12345);
  ASSERT_EQ(depth, want.size());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), frames));
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
  EXPECT_EQ(table.max_id(), 8u);
  for (uint64_t i = 1; i <= 8; ++i) EXPECT_EQ(table.Intern(&i, 1, false), i);
}

// Out of room for frames: no id, and the ids handed out stay dense and readable.
TEST(StackTable, FullFramesReturnZeroAndKeepIdsDense) {
  StackTable table;
  ASSERT_TRUE(table.Init(1 << 10, 8));
  const uint64_t five[] = {1, 2, 3, 4, 5}, four[] = {6, 7, 8, 9}, two[] = {10, 11};
  EXPECT_EQ(table.Intern(five, 5, false), 1u);
  EXPECT_EQ(table.Intern(four, 4, false), 0u);
  EXPECT_EQ(table.Intern(two, 2, false), 2u);
  EXPECT_EQ(table.max_id(), 2u);
  EXPECT_EQ(table.full_count(), 1u);
  const uint64_t* frames;
  uint32_t depth;
  bool truncated;
  ASSERT_TRUE(table.Get(2, &frames, &depth, &truncated));
  EXPECT_EQ(depth, 2u);
  EXPECT_EQ(frames[1], 11u);
}

std::atomic<int> g_insert_phase{0};  // 1: a thread is inside Intern's window; 2: let it go on

// fork() while another thread has taken a stack's id but not yet published it: the child (where
// that thread does not exist) must read every id and intern that same stack without waiting.
TEST(StackTable, ForkWhileAnotherThreadInsertsLeavesNothingToWaitForInTheChild) {
  StackTable table;
  ASSERT_TRUE(table.Init(1 << 10, 1 << 14));
  const auto before = StackNumber(1), racing = StackNumber(2), fresh = StackNumber(3);
  const uint32_t before_id = table.Intern(before.data(), before.size(), false);
  ASSERT_NE(before_id, 0u);
  StackTable::pause_while_inserting_for_test = [] {
    g_insert_phase = 1;
    while (g_insert_phase.load() != 2) sched_yield();
  };
  uint32_t racing_id = 0;
  std::thread inserter([&] { racing_id = table.Intern(racing.data(), racing.size(), false); });
  while (g_insert_phase.load() != 1) sched_yield();
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(10);  // a child that spins is killed by SIGALRM
    StackTable::pause_while_inserting_for_test = nullptr;  // the child's own inserts go through
    table.AfterForkInChild();
    int bad = 0;
    for (uint32_t id = 1; id <= table.max_id(); ++id) {
      const uint64_t* frames;
      uint32_t depth;
      bool truncated;
      if (!table.Get(id, &frames, &depth, &truncated)) bad |= 1;
    }
    const uint64_t* frames;
    uint32_t depth;
    bool truncated;
    if (!table.Get(before_id, &frames, &depth, &truncated) || depth != before.size()) bad |= 2;
    const uint32_t again = table.Intern(racing.data(), racing.size(), false);
    if (again == 0 || !table.Get(again, &frames, &depth, &truncated) || depth != racing.size() ||
        frames[0] != racing[0]) {
      bad |= 4;
    }
    if (table.Intern(fresh.data(), fresh.size(), false) == 0) bad |= 8;
    if (table.Intern(before.data(), before.size(), false) != before_id) bad |= 16;
    _exit(bad);
  }
  ASSERT_GT(pid, 0);
  g_insert_phase = 2;
  inserter.join();
  StackTable::pause_while_inserting_for_test = nullptr;
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_FALSE(WIFSIGNALED(status)) << "child killed by signal " << WTERMSIG(status);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The parent's table is untouched by it: the racing stack kept its id.
  EXPECT_NE(racing_id, 0u);
  EXPECT_EQ(table.Intern(racing.data(), racing.size(), false), racing_id);
}

}  // namespace
}  // namespace tierscope::recorder
