#include "nested_heap.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include <cstring>

namespace tierscope::placer {
namespace {

constexpr size_t kHeader = 16;  // keeps blocks 16-byte aligned, like malloc's
constexpr int kMinClass = 5;    // 32-byte chunks
// Chunks this large give their pages back when freed (the handler's big block is rare).
constexpr int kPurgeClass = 20;
constexpr uintptr_t kPage = 4096;

struct Header {
  uint32_t chunk_class;
  uint32_t offset;  // from the chunk's start to the block (over 16 for aligned blocks)
  uint64_t unused;
};
static_assert(sizeof(Header) == kHeader);

Header* HeaderOf(const void* p) {
  return reinterpret_cast<Header*>(reinterpret_cast<uintptr_t>(p) - kHeader);
}

int ClassFor(size_t bytes) {
  int c = kMinClass;
  while ((size_t{1} << c) < bytes) ++c;
  return c;
}

void BlockSignals(sigset_t* old) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, old);
}

void SpinLock(std::atomic<bool>& locked) {
  while (locked.exchange(true, std::memory_order_acquire)) sched_yield();
}

}  // namespace

// The heap's lock with every signal of this thread blocked meanwhile.
class NestedHeapLock {
 public:
  explicit NestedHeapLock(NestedHeap& heap) : heap_(heap) {
    BlockSignals(&old_);
    SpinLock(heap_.locked_);
  }
  ~NestedHeapLock() {
    heap_.locked_.store(false, std::memory_order_release);
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NestedHeapLock(const NestedHeapLock&) = delete;
  NestedHeapLock& operator=(const NestedHeapLock&) = delete;

 private:
  NestedHeap& heap_;
  sigset_t old_;
};

bool NestedHeap::Reserve(uint64_t bytes) {
  void* region;
  while ((region = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)) == MAP_FAILED) {
    if ((bytes /= 2) < (uint64_t{1} << 24)) return false;  // strict overcommit, ulimit -v
  }
  base_ = next_ = reinterpret_cast<uintptr_t>(region);
  size_ = bytes;
  return true;
}

void* NestedHeap::Alloc(size_t size, size_t align, bool zero) {
  if (align < kHeader) align = kHeader;
  // The block starts at the first multiple of `align` at least kHeader into its chunk (chunks
  // start 16-byte aligned).
  const size_t slack = align > kHeader ? align + kHeader : kHeader;
  const int c = size > size_ || align > size_ ? kClasses : ClassFor(size + slack);
  if (c >= kClasses) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const uintptr_t chunk_bytes = uintptr_t{1} << c;
  uintptr_t chunk;
  {
    NestedHeapLock lock(*this);
    if (void* head = free_[c]) {
      free_[c] = *static_cast<void**>(head);
      chunk = reinterpret_cast<uintptr_t>(head);
    } else {
      if (chunk_bytes > base_ + size_ - next_) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
      }
      chunk = next_;
      next_ += chunk_bytes;
    }
  }
  allocs_.fetch_add(1, std::memory_order_relaxed);
  const uintptr_t block = (chunk + kHeader + align - 1) & ~(uintptr_t{align} - 1);
  Header* h = HeaderOf(reinterpret_cast<void*>(block));
  h->chunk_class = static_cast<uint32_t>(c);
  h->offset = static_cast<uint32_t>(block - chunk);
  if (zero) std::memset(reinterpret_cast<void*>(block), 0, chunk + chunk_bytes - block);
  return reinterpret_cast<void*>(block);
}

size_t NestedHeap::UsableSize(const void* p) const {
  const Header* h = HeaderOf(p);
  return (size_t{1} << h->chunk_class) - h->offset;
}

void NestedHeap::Free(void* p) {
  const Header* h = HeaderOf(p);
  const int c = static_cast<int>(h->chunk_class);
  void* chunk = static_cast<char*>(p) - h->offset;
  if (c >= kPurgeClass) {
    // The chunk's first page keeps the free list's link; the rest reads as zero when reused.
    madvise(static_cast<char*>(chunk) + kPage, (size_t{1} << c) - kPage, MADV_DONTNEED);
  }
  NestedHeapLock lock(*this);
  *static_cast<void**>(chunk) = free_[c];
  free_[c] = chunk;
}

void NestedHeap::LockForFork() {
  sigset_t old;
  BlockSignals(&old);
  SpinLock(locked_);
  fork_mask_ = old;
}

void NestedHeap::UnlockAfterFork() {
  const sigset_t old = fork_mask_;
  locked_.store(false, std::memory_order_release);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace tierscope::placer
