#include "stack_table.h"

#include <sched.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "kernel_pages.h"

namespace tierscope::recorder {

bool StackTable::Init(size_t slots, size_t max_frames) {
  max_slots_ = std::max<size_t>(slots, 16);
  max_frames_ = max_frames;
  max_ids_ = max_slots_ / 2;  // what one table of the final size held at load factor 1/2
  frames_ = static_cast<uint64_t*>(RawMap(max_frames * sizeof(uint64_t)));
  entries_ = static_cast<Entry*>(RawMap((max_ids_ + 1) * sizeof(Entry)));
  Slot* first = static_cast<Slot*>(RawMap(SlotsOf(0) * sizeof(Slot)));
  if (frames_ == nullptr || entries_ == nullptr || first == nullptr) return false;
  masks_[0] = SlotsOf(0) - 1;
  tables_[0].store(first, std::memory_order_relaxed);
  ntables_.store(1, std::memory_order_release);
  return true;
}

size_t StackTable::SlotsOf(uint32_t table) const {
  return std::min(kFirstSlots << table, max_slots_);
}

__attribute__((always_inline)) inline StackTable::Probe StackTable::Find(
    uint32_t table, uint64_t hash, const uint64_t* frames, uint32_t flag, uint32_t* id,
    size_t* empty) const {
  const Slot* slots = tables_[table].load(std::memory_order_acquire);
  const size_t mask = MaskOf(table);
  for (size_t probe = 0, i = hash & mask; probe < kMaxProbe && probe <= mask;
       ++probe, i = (i + 1) & mask) {
    const Slot& s = slots[i];
    const uint64_t h = s.hash.load(std::memory_order_acquire);
    if (h == 0) {
      *empty = i;
      return Probe::kAbsent;
    }
    if (h != hash) continue;
    uint32_t found;
    while ((found = s.id.load(std::memory_order_acquire)) == 0) {
      // Another thread is publishing this slot right now (a few instructions).
    }
    if (found == kLostId) continue;
    // A full table's leftover matches by hash alone: it has no frames to compare. Otherwise the
    // slot's copy of the entry is complete: its id was published after it.
    if (found == kNoId ||
        (s.depth_and_flag == flag && std::memcmp(frames_ + s.frames_offset, frames,
                                                 (flag & 0x7fffffffu) * sizeof(uint64_t)) == 0)) {
      *id = found == kNoId ? 0 : found;
      return Probe::kFound;
    }
  }
  return Probe::kExhausted;
}

size_t StackTable::Claim(uint32_t table, uint64_t hash, size_t from, bool yield_to_same) {
  Slot* slots = tables_[table].load(std::memory_order_acquire);
  const size_t mask = MaskOf(table);
  for (size_t probe = 0, i = from; probe < kMaxProbe && probe <= mask;
       ++probe, i = (i + 1) & mask) {
    uint64_t h = slots[i].hash.load(std::memory_order_acquire);
    if (h == 0 && slots[i].hash.compare_exchange_strong(h, hash, std::memory_order_acq_rel)) {
      used_[table].fetch_add(1, std::memory_order_relaxed);
      return i;
    }
    if (h == hash && yield_to_same) return SIZE_MAX;
  }
  return SIZE_MAX;
}

void StackTable::Promote(uint32_t newest, uint64_t hash, uint32_t id, const uint64_t* frames,
                         uint32_t flag) {
  uint32_t again;
  size_t empty;
  // Counted before the slot is claimed: a fork() child that sees the claim sees the count.
  inserting_.fetch_add(1, std::memory_order_acq_rel);
  // Another thread may have copied it meanwhile; then there is nothing to do.
  if (Find(newest, hash, frames, flag, &again, &empty) == Probe::kAbsent) {
    const size_t i = Claim(newest, hash, empty, true);
    if (i != SIZE_MAX) Publish(newest, i, id);
  }
  inserting_.fetch_sub(1, std::memory_order_release);
}

uint32_t StackTable::Intern(const uint64_t* frames, uint32_t depth, bool truncated) {
  uint64_t hash = XXH3_64bits(frames, depth * sizeof(uint64_t)) ^ (truncated ? 0x5bd1e995 : 0);
  if (hash == 0) hash = 1;
  const uint32_t flag = depth | (truncated ? 1u << 31 : 0);
  const uint32_t n = ntables_.load(std::memory_order_acquire);
  for (uint32_t t = n; t-- > 0;) {
    uint32_t id;
    size_t empty;
    if (Find(t, hash, frames, flag, &id, &empty) == Probe::kFound) {
      if (t != n - 1) Promote(n - 1, hash, id, frames, flag);
      return id;
    }
  }
  // Nowhere: a new id, handed out under the lock (which re-checks every table: another thread
  // may have inserted it, or added a table, since).
  while (insert_lock_.exchange(true, std::memory_order_acquire)) {
    while (insert_lock_.load(std::memory_order_relaxed)) sched_yield();
  }
  const uint32_t id = InsertLocked(hash, frames, depth, flag);
  insert_lock_.store(false, std::memory_order_release);
  return id;
}

void StackTable::Publish(uint32_t table, size_t slot, uint32_t id) {
  Slot& s = tables_[table].load(std::memory_order_relaxed)[slot];
  s.depth_and_flag = entries_[id].depth_and_flag;
  s.frames_offset = entries_[id].frames_offset;
  s.id.store(id, std::memory_order_release);
}

void StackTable::AddTableLocked() {
  const uint32_t n = ntables_.load(std::memory_order_relaxed);
  if (n >= kMaxTables || SlotsOf(n - 1) >= max_slots_) return;
  Slot* t = static_cast<Slot*>(RawMap(SlotsOf(n) * sizeof(Slot)));
  if (t == nullptr) return;  // the newest table fills further, then stacks go unrecorded
  masks_[n] = SlotsOf(n) - 1;
  tables_[n].store(t, std::memory_order_release);
  ntables_.store(n + 1, std::memory_order_release);
}

uint32_t StackTable::InsertLocked(uint64_t hash, const uint64_t* frames, uint32_t depth,
                                  uint32_t flag) {
  uint32_t n = ntables_.load(std::memory_order_acquire);
  for (uint32_t t = n; t-- > 0;) {
    uint32_t id;
    size_t empty;
    if (Find(t, hash, frames, flag, &id, &empty) == Probe::kFound) return id;
  }
  if (used_[n - 1].load(std::memory_order_relaxed) >= SlotsOf(n - 1) / 2) {
    AddTableLocked();
    n = ntables_.load(std::memory_order_acquire);
  }
  const uint32_t newest = n - 1;
  inserting_.fetch_add(1, std::memory_order_acq_rel);
  const size_t i = Claim(newest, hash, hash & MaskOf(newest), false);
  if (i == SIZE_MAX) {  // the largest table is full around this hash
    inserting_.fetch_sub(1, std::memory_order_release);
    full_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  // Only this thread hands out ids (under the lock); the id becomes visible to the writer
  // (next_id_) once its frames are in place, so Get only waits across a fork.
  const uint64_t off = frames_used_.load(std::memory_order_relaxed);
  const uint32_t id = next_id_.load(std::memory_order_relaxed);
  if (off + depth > max_frames_ || id > max_ids_) {
    // The slot keeps the hash with no stack: later lookups of these frames end there, at id 0.
    tables_[newest].load(std::memory_order_relaxed)[i].id.store(kNoId, std::memory_order_release);
    inserting_.fetch_sub(1, std::memory_order_release);
    full_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  if (pause_while_inserting_for_test != nullptr) pause_while_inserting_for_test();
  std::memcpy(frames_ + off, frames, depth * sizeof(uint64_t));
  frames_used_.store(off + depth, std::memory_order_relaxed);
  Entry& e = entries_[id];
  e.depth_and_flag = flag;
  e.frames_offset = off;
  next_id_.store(id + 1, std::memory_order_release);
  Publish(newest, i, id);
  inserting_.fetch_sub(1, std::memory_order_release);
  return id;
}

void StackTable::AfterForkInChild() {
  // The lock's holder, if any, is not here; only this thread is, and it is not inserting.
  insert_lock_.store(false, std::memory_order_relaxed);
  if (inserting_.load(std::memory_order_acquire) == 0) return;
  // A slot claimed but not published: no stack behind it, so that lookups do not wait for it
  // (a later Intern of its frames gets a new id). Ids are visible only once complete.
  const uint32_t n = ntables_.load(std::memory_order_relaxed);
  for (uint32_t t = 0; t < n; ++t) {
    Slot* slots = tables_[t].load(std::memory_order_relaxed);
    for (size_t i = 0, size = SlotsOf(t); i < size; ++i) {
      if (slots[i].hash.load(std::memory_order_relaxed) != 0 &&
          slots[i].id.load(std::memory_order_relaxed) == 0) {
        slots[i].id.store(kLostId, std::memory_order_release);
      }
    }
  }
  inserting_.store(0, std::memory_order_release);
}

bool StackTable::Get(uint32_t id, const uint64_t** frames, uint32_t* depth, bool* truncated) const {
  if (id == 0 || id > max_ids_ || id >= next_id_.load(std::memory_order_acquire)) return false;
  const Entry& e = entries_[id];  // complete: next_id_ moved past it after it was written
  *frames = frames_ + e.frames_offset;
  *depth = e.depth_and_flag & 0x7fffffffu;
  *truncated = (e.depth_and_flag >> 31) != 0;
  return true;
}

}  // namespace tierscope::recorder
