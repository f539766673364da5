// The bounded buffer pool: full buffers from many threads reach the writer, in order per
// producer, none lost; the bound holds; released buffers are reused.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "runtime/event_buffer.h"

namespace tierscope::recorder {
namespace {

TEST(BufferPool, BoundIsHonoredAndReleasedBuffersComeBack) {
  BufferPool pool;
  ASSERT_TRUE(pool.Init(4096, 4 * 4096));
  ASSERT_EQ(pool.max_buffers(), 4u);
  std::vector<EventBuffer*> taken;
  for (int i = 0; i < 4; ++i) {
    EventBuffer* b = pool.Acquire(1);
    ASSERT_NE(b, nullptr);
    EXPECT_GT(b->capacity, 0u);
    taken.push_back(b);
  }
  EXPECT_EQ(pool.Acquire(1), nullptr);  // the writer is behind: nothing more
  pool.Release(taken[2]);
  EventBuffer* again = pool.Acquire(7);
  EXPECT_EQ(again, taken[2]);
  EXPECT_EQ(again->tid, 7u);
  EXPECT_EQ(again->count.load(), 0u);
}

// Threads that hold every buffer as their current one and nothing queued for the writer: a
// thread without a buffer gets one beyond the limit (waiting could wait for ever); with a buffer
// queued, waiting for the writer helps and the limit holds.
TEST(BufferPool, BeyondTheLimitOnlyWhenNothingIsQueued) {
  BufferPool pool;
  ASSERT_TRUE(pool.Init(4096, 2 * 4096));
  EventBuffer* a = pool.Acquire(1);
  EventBuffer* b = pool.Acquire(2);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(pool.Acquire(3), nullptr);
  EXPECT_EQ(pool.queued(), 0u);
  EventBuffer* beyond = pool.AcquireBeyondLimit(3);
  ASSERT_NE(beyond, nullptr);
  EXPECT_NE(beyond, a);
  EXPECT_NE(beyond, b);
  pool.PushFull(a);
  EXPECT_EQ(pool.queued(), 1u);
  EXPECT_EQ(pool.TakeAllFull(), a);
  EXPECT_EQ(pool.queued(), 1u);  // still in the writer's hands
  pool.Release(a);
  EXPECT_EQ(pool.queued(), 0u);
  EXPECT_EQ(pool.Acquire(4), a);
}

TEST(BufferPool, HandOffFromManyThreadsLosesNothing) {
  BufferPool pool;
  ASSERT_TRUE(pool.Init(4096, 16 * 4096));
  constexpr int kThreads = 4, kPerThread = 2000;
  std::atomic<bool> done{false};
  std::vector<std::vector<uint64_t>> seen(kThreads);
  // The writer: takes full buffers, checks them, gives them back.
  std::thread writer([&] {
    while (true) {
      const bool last = done.load();
      for (EventBuffer* b = pool.TakeAllFull(); b != nullptr;) {
        EventBuffer* next = b->next_full;
        ASSERT_EQ(b->count.load(), 1u);
        seen[b->tid].push_back(b->events[0].address);
        pool.Release(b);
        b = next;
      }
      if (last) break;
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EventBuffer* b;
        while ((b = pool.Acquire(static_cast<uint32_t>(t))) == nullptr) std::this_thread::yield();
        b->events[0] = RawEvent{0, static_cast<uint64_t>(i), 0, 0, 0};
        b->count.store(1, std::memory_order_release);
        pool.PushFull(b);
      }
    });
  }
  for (auto& p : producers) p.join();
  done = true;
  writer.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<size_t>(kPerThread)) << "thread " << t;
    for (int i = 0; i < kPerThread; ++i) ASSERT_EQ(seen[t][i], static_cast<uint64_t>(i));
  }
}

}  // namespace
}  // namespace tierscope::recorder
