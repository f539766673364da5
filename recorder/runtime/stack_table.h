// Deduplicates call stacks at record time: an insert-only, lock-free hash table in its own
// pages. Ids are dense (1, 2, ...) so the writer can emit every stack before the first event
// that refers to it by walking ids in order. Id 0 means "no stack" (table full).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tierscope::recorder {

class StackTable {
 public:
  // Sizes: number of slots (a power of two) and total frames storable.
  bool Init(size_t slots, size_t max_frames);

  // The id of this stack, inserting it on first sight. Safe from any number of threads.
  uint32_t Intern(const uint64_t* frames, uint32_t depth, bool truncated);

  // Ids handed out so far (the largest id; every id up to it becomes readable soon).
  uint32_t max_id() const { return next_id_.load(std::memory_order_acquire) - 1; }
  // The frames of `id`; waits (spins) while its inserting thread is still publishing it.
  // Returns false for an id never handed out.
  bool Get(uint32_t id, const uint64_t** frames, uint32_t* depth, bool* truncated) const;

  uint64_t full_count() const { return full_.load(std::memory_order_relaxed); }

  // In the child after fork(), where only the forking thread exists: a thread of the parent may
  // have been between claiming a slot and publishing its id. Completes what it left half done
  // (its stack becomes an empty one; a later Intern of those frames gets a new id), so that
  // neither Intern nor Get waits for a thread that is not there.
  void AfterForkInChild();

  // Tests only: called by an inserting thread between taking its id and publishing it.
  static inline void (*pause_while_inserting_for_test)() = nullptr;

 private:
  struct Slot {
    std::atomic<uint64_t> hash;  // 0 = empty
    std::atomic<uint32_t> id;    // 0 until the frames are published; UINT32_MAX: table full
    uint32_t depth_and_flag;     // depth | truncated << 31
    uint64_t frames_offset;
  };
  static constexpr uint32_t kLostId = UINT32_MAX;  // in by_id_: an id left without a slot

  Slot* slots_ = nullptr;
  size_t mask_ = 0;
  uint64_t* frames_ = nullptr;
  size_t max_frames_ = 0;
  std::atomic<uint64_t> frames_used_{0};
  std::atomic<uint32_t>* by_id_ = nullptr;  // id -> slot index + 1
  size_t max_ids_ = 0;
  std::atomic<uint32_t> next_id_{1};
  std::atomic<uint64_t> full_{0};
  // Threads between trying to claim an empty slot and publishing it (or giving up). Only the
  // insert path touches it; AfterForkInChild has nothing to do when it is 0.
  std::atomic<uint32_t> inserting_{0};
};

}  // namespace tierscope::recorder
