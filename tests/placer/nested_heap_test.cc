// The nested calls' heap (placer/src/nested_heap.h): what a signal handler that interrupted the
// allocator allocates. Its blocks, their reuse and alignment, and its safety against handlers
// and fork, without the preloaded library.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "allocation_path.h"
#include "nested_heap.h"

namespace tierscope::placer {
namespace {

TEST(NestedHeap, BlocksAreItsOwnAlignedAndReused) {
  NestedHeap heap;
  ASSERT_TRUE(heap.Reserve(uint64_t{64} << 20));
  void* a = heap.Alloc(100, 0, false);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(heap.Holds(a));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
  EXPECT_GE(heap.UsableSize(a), 100u);
  std::memset(a, 0xab, heap.UsableSize(a));
  void* b = heap.Alloc(100, 0, false);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(static_cast<unsigned char*>(a)[99], 0xab);  // b did not overlap a
  heap.Free(a);
  // A zeroed block of a's size reuses a's chunk, and is zero where a was written.
  void* c = heap.Alloc(100, 0, true);
  EXPECT_EQ(c, a);
  for (size_t i = 0; i < heap.UsableSize(c); ++i) ASSERT_EQ(static_cast<char*>(c)[i], 0) << i;
  void* aligned = heap.Alloc(5000, 4096, false);
  ASSERT_NE(aligned, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % 4096, 0u);
  EXPECT_GE(heap.UsableSize(aligned), 5000u);
  int local = 0;
  EXPECT_FALSE(heap.Holds(&local));
  EXPECT_FALSE(heap.Holds(nullptr));
  heap.Free(b);
  heap.Free(c);
  heap.Free(aligned);
}

TEST(NestedHeap, SaysNoWhenItsReservationIsUsedUp) {
  NestedHeap heap;
  ASSERT_TRUE(heap.Reserve(uint64_t{16} << 20));
  EXPECT_EQ(heap.Alloc(uint64_t{32} << 20, 0, false), nullptr);
  void* big = heap.Alloc(uint64_t{6} << 20, 0, false);  // an 8 MiB chunk
  ASSERT_NE(big, nullptr);
  void* second = heap.Alloc(uint64_t{6} << 20, 0, false);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(heap.Alloc(uint64_t{6} << 20, 0, false), nullptr);  // 16 MiB carved
  heap.Free(big);
  EXPECT_EQ(heap.Alloc(uint64_t{6} << 20, 0, false), big);  // its freed chunk serves again
  EXPECT_EQ(heap.refused(), 2u);
  EXPECT_EQ(heap.allocs(), 3u);
}

// A handler that allocates and frees from the heap lands, a few thousand times, in the middle of
// the thread's own allocations and frees there: no block is handed out twice (each keeps the tag
// its owner wrote) and nothing waits for ever.
NestedHeap g_heap;
std::atomic<long> g_handled{0};
std::atomic<long> g_bad{0};

void FillTag(void* p, size_t n, unsigned char tag) {
  std::memset(p, tag, n);
}
bool HasTag(const void* p, size_t n, unsigned char tag) {
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<const unsigned char*>(p)[i] != tag) return false;
  }
  return true;
}

void OnAlarm(int) {
  void* blocks[4];
  for (int i = 0; i < 4; ++i) {
    blocks[i] = g_heap.Alloc(24 + 40 * i, 0, false);
    if (blocks[i] != nullptr) FillTag(blocks[i], 24 + 40 * i, 0x5a);
  }
  for (int i = 0; i < 4; ++i) {
    if (blocks[i] == nullptr || !HasTag(blocks[i], 24 + 40 * i, 0x5a)) g_bad++;
    if (blocks[i] != nullptr) g_heap.Free(blocks[i]);
  }
  g_handled++;
}

TEST(NestedHeap, HandlersThatInterruptItFromEveryThreadGetBlocksOfTheirOwn) {
  ASSERT_TRUE(g_heap.Reserve(uint64_t{256} << 20));
  struct sigaction sa {};
  sa.sa_handler = OnAlarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  struct sigaction old {};
  ASSERT_EQ(sigaction(SIGALRM, &sa, &old), 0);
  std::atomic<bool> stop{false};
  auto work = [&](unsigned char tag) {
    std::vector<void*> kept(32, nullptr);
    unsigned seed = tag;
    while (!stop.load(std::memory_order_relaxed)) {
      seed = seed * 1103515245 + 12345;
      void*& slot = kept[(seed >> 8) % kept.size()];
      if (slot != nullptr) {
        if (!HasTag(slot, 64, tag)) g_bad++;
        g_heap.Free(slot);
      }
      slot = g_heap.Alloc(64 + (seed >> 16) % 200, 0, false);
      if (slot == nullptr) {
        g_bad++;
      } else {
        FillTag(slot, 64, tag);
      }
    }
    for (void* p : kept) {
      if (p != nullptr) g_heap.Free(p);
    }
  };
  std::thread other(work, 0x21);
  itimerval every{{0, 200}, {0, 200}};
  ASSERT_EQ(setitimer(ITIMER_REAL, &every, nullptr), 0);
  std::thread stopper([&] {
    while (g_handled.load() < 3000) usleep(1000);
    stop = true;
  });
  work(0x42);
  stopper.join();
  other.join();
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  sigaction(SIGALRM, &old, nullptr);
  EXPECT_GE(g_handled.load(), 3000);
  EXPECT_EQ(g_bad.load(), 0);
}

TEST(NestedHeap, AForkWhileAnotherThreadHoldsItLeavesTheChildAHeapThatWorks) {
  NestedHeap heap;
  ASSERT_TRUE(heap.Reserve(uint64_t{64} << 20));
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load(std::memory_order_relaxed)) heap.Free(heap.Alloc(48, 0, false));
  });
  for (int i = 0; i < 50; ++i) {
    heap.LockForFork();
    const pid_t child = fork();
    heap.UnlockAfterFork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      void* p = heap.Alloc(48, 0, false);
      _exit(p != nullptr && heap.Holds(p) ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << i;
  }
  stop = true;
  busy.join();
}

// A block a handler allocated reaches the ordinary paths: free gives it back to the heap, realloc
// moves it into jemalloc with its bytes.
TEST(NestedHeap, FreeAndReallocOutsideAHandlerTakeItsBlocks) {
  if (!g_state.nested.ready()) {
    ASSERT_TRUE(g_state.nested.Reserve(uint64_t{64} << 20));
  }
  void* p = g_state.nested.Alloc(40, 0, false);
  ASSERT_NE(p, nullptr);
  ReleaseBlock(p);
  void* q = g_state.nested.Alloc(40, 0, false);
  EXPECT_EQ(q, p);  // it went back to the heap, not to jemalloc
  std::memset(q, 0x77, 40);
  void* moved = Reallocate(q, 4000, g_state.arenas.TierOf(q), nullptr, nullptr);
  ASSERT_NE(moved, nullptr);
  EXPECT_FALSE(g_state.nested.Holds(moved));
  EXPECT_TRUE(HasTag(moved, 40, 0x77));
  EXPECT_EQ(g_state.nested.Alloc(40, 0, false), q);  // the old block is free again
  dallocx(moved, 0);
}

}  // namespace
}  // namespace tierscope::placer
