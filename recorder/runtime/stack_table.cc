#include "stack_table.h"

#include <xxhash.h>

#include <cstring>

#include "raw_memory.h"

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
      if (!s.hash.compare_exchange_strong(h, hash, std::memory_order_acq_rel)) {
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
          return 0;
        }
        std::memcpy(frames_ + off, frames, depth * sizeof(uint64_t));
        s.depth_and_flag = flag;
        s.frames_offset = off;
        by_id_[id].store(static_cast<uint32_t>(i + 1), std::memory_order_release);
        s.id.store(id, std::memory_order_release);
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

bool StackTable::Get(uint32_t id, const uint64_t** frames, uint32_t* depth, bool* truncated) const {
  if (id == 0 || id > max_ids_ || id >= next_id_.load(std::memory_order_acquire)) return false;
  uint32_t slot;
  while ((slot = by_id_[id].load(std::memory_order_acquire)) == 0) {
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
