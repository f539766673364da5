#include "stack_table.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "kernel_pages.h"

namespace tierscope::recorder {

bool StackTable::Init(size_t slots, size_t max_frames) {
  mask_ = slots - 1;
  max_frames_ = max_frames;
  max_ids_ = slots / 2;  // keep the load factor at most 1/2
  slots_ = static_cast<Slot*>(RawMap(slots * sizeof(Slot)));
  frames_ = static_cast<uint64_t*>(RawMap(max_frames * sizeof(uint64_t)));
  by_id_ = static_cast<std::atomic<uint32_t>*>(RawMap((max_ids_ + 1) * sizeof(uint32_t)));
  return slots_ != nullptr && frames_ != nullptr && by_id_ != nullptr;
}

uint32_t StackTable::Intern(const uint64_t* frames, uint32_t depth, bool truncated) {
  uint64_t hash = XXH3_64bits(frames, depth * sizeof(uint64_t)) ^ (truncated ? 0x5bd1e995 : 0);
  if (hash == 0) hash = 1;
  const uint32_t flag = depth | (truncated ? 1u << 31 : 0);
  for (size_t probe = 0, i = hash & mask_; probe <= mask_; ++probe, i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    uint64_t h = s.hash.load(std::memory_order_acquire);
    if (h == 0) {
      // Counted before the slot is claimed: a fork() child that sees the claim sees the count.
      inserting_.fetch_add(1, std::memory_order_acq_rel);
      if (!s.hash.compare_exchange_strong(h, hash, std::memory_order_acq_rel)) {
        inserting_.fetch_sub(1, std::memory_order_release);
        if (h != hash) continue;  // another stack took the slot
      } else {
        // We own the slot: store frames, then publish the id.
        const uint64_t off = frames_used_.fetch_add(depth, std::memory_order_relaxed);
        const uint32_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
        if (off + depth > max_frames_ || id > max_ids_) {
          full_.fetch_add(1, std::memory_order_relaxed);
          // Leave a valid, empty stack behind so waiters and the writer do not spin forever.
          s.depth_and_flag = 0;
          s.frames_offset = 0;
          if (id <= max_ids_) by_id_[id].store(static_cast<uint32_t>(i + 1));
          s.id.store(id <= max_ids_ ? id : UINT32_MAX, std::memory_order_release);
          inserting_.fetch_sub(1, std::memory_order_release);
          return 0;
        }
        if (pause_while_inserting_for_test != nullptr) pause_while_inserting_for_test();
        std::memcpy(frames_ + off, frames, depth * sizeof(uint64_t));
        s.depth_and_flag = flag;
        s.frames_offset = off;
        by_id_[id].store(static_cast<uint32_t>(i + 1), std::memory_order_release);
        s.id.store(id, std::memory_order_release);
        inserting_.fetch_sub(1, std::memory_order_release);
        return id;
      }
    }
    if (h != hash) continue;
    uint32_t id;
    while ((id = s.id.load(std::memory_order_acquire)) == 0) {
      // Another thread is publishing this slot right now (a few instructions).
    }
    if (s.depth_and_flag == flag &&
        std::memcmp(frames_ + s.frames_offset, frames, depth * sizeof(uint64_t)) == 0) {
      return id == UINT32_MAX ? 0 : id;
    }
  }
  full_.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

void StackTable::AfterForkInChild() {
  if (inserting_.load(std::memory_order_acquire) == 0) return;
  // Each thread of the parent stopped somewhere in Intern's insert path. By how far it got:
  // (1) slot claimed, no id yet; (2) id taken, by_id_ not yet set (an "orphan" id, which Get
  // would wait for); (3) by_id_ set (frames complete), the slot's id not yet published.
  const uint32_t max_id = static_cast<uint32_t>(
      std::min<uint64_t>(next_id_.load(std::memory_order_relaxed) - 1, max_ids_));
  constexpr size_t kMaxOrphans = 1024;
  uint32_t orphans[kMaxOrphans];
  size_t norphans = 0;
  for (uint32_t id = 1; id <= max_id; ++id) {
    const uint32_t slot = by_id_[id].load(std::memory_order_relaxed);
    if (slot == 0) {
      if (norphans < kMaxOrphans) {
        orphans[norphans++] = id;
      } else {
        by_id_[id].store(kLostId, std::memory_order_relaxed);
      }
    } else if (slot != kLostId && slots_[slot - 1].id.load(std::memory_order_relaxed) == 0) {
      slots_[slot - 1].id.store(id, std::memory_order_relaxed);  // (3)
    }
  }
  size_t used = 0;
  for (size_t i = 0; i <= mask_; ++i) {
    Slot& s = slots_[i];
    if (s.hash.load(std::memory_order_relaxed) == 0 || s.id.load(std::memory_order_relaxed) != 0)
      continue;
    // (1) or (2): the frames may be half copied. An empty stack (depth 0 never matches a real
    // one, so Intern of those frames inserts them again) under an id of its own.
    s.depth_and_flag = 0;
    s.frames_offset = 0;
    const uint32_t id =
        used < norphans ? orphans[used++] : next_id_.fetch_add(1, std::memory_order_relaxed);
    if (id <= max_ids_) by_id_[id].store(static_cast<uint32_t>(i + 1), std::memory_order_relaxed);
    s.id.store(id <= max_ids_ ? id : UINT32_MAX, std::memory_order_release);
  }
  // Ids whose slot was never claimed cannot exist (a thread claims first), but Get must not wait.
  for (; used < norphans; ++used) by_id_[orphans[used]].store(kLostId, std::memory_order_relaxed);
  inserting_.store(0, std::memory_order_release);
}

bool StackTable::Get(uint32_t id, const uint64_t** frames, uint32_t* depth, bool* truncated) const {
  if (id == 0 || id > max_ids_ || id >= next_id_.load(std::memory_order_acquire)) return false;
  uint32_t slot;
  while ((slot = by_id_[id].load(std::memory_order_acquire)) == 0) {
  }
  if (slot == kLostId) {  // see AfterForkInChild
    *frames = frames_;
    *depth = 0;
    *truncated = false;
    return true;
  }
  const Slot& s = slots_[slot - 1];
  while (s.id.load(std::memory_order_acquire) == 0) {
  }
  *frames = frames_ + s.frames_offset;
  *depth = s.depth_and_flag & 0x7fffffffu;
  *truncated = (s.depth_and_flag >> 31) != 0;
  return true;
}

}  // namespace tierscope::recorder
