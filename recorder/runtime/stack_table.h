// Deduplicates call stacks at record time. Ids are dense (1, 2, ...) so the writer can emit every
// stack before the first event that refers to it by walking ids in order. Id 0 means "no stack"
// (table full).
//
// The index is a chain of open-addressing tables that doubles as stacks arrive (4096 slots, then
// 8192, ... up to the size given to Init), each in its own pages. One table of the final size
// spread a short program's few hundred stacks over as many pages, each a page fault and, once the
// writer thread runs, a TLB flush sent to the other CPU: a recorded shell script paid that in every
// process it started. Lookups go newest table first, and a stack found in an older one is copied
// into the newest, so the program's usual stacks cost one probe. Lookups are lock-free; handing
// out a new id takes a spin lock (new stacks are rare next to lookups) so that a stack never gets
// two ids while a table is being added. Frames and per-id entries are dense arrays read by the
// writer without touching the index.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tierscope::recorder {

class StackTable {
 public:
  // `slots`: the largest index table (a power of two, at least 16; ids: at most slots / 2);
  // `max_frames`: frames storable in all.
  bool Init(size_t slots, size_t max_frames);

  // The id of this stack, inserting it on first sight. Safe from any number of threads; must not
  // be re-entered by the same thread (the hooks' guard sees to that).
  uint32_t Intern(const uint64_t* frames, uint32_t depth, bool truncated);

  // Ids handed out so far (the largest id; every id up to it is readable).
  uint32_t max_id() const { return next_id_.load(std::memory_order_acquire) - 1; }
  // The frames of `id`; false for an id never handed out.
  bool Get(uint32_t id, const uint64_t** frames, uint32_t* depth, bool* truncated) const;

  uint64_t full_count() const { return full_.load(std::memory_order_relaxed); }
  // Index tables in use (for tests and benchmarks).
  uint32_t tables() const { return ntables_.load(std::memory_order_acquire); }

  // In the child after fork(), where only the forking thread exists: a thread of the parent may
  // have been between claiming a slot or an id and publishing it, or held the insert lock.
  // Completes what it left half done (its stack becomes an empty one; a later Intern of those
  // frames gets a new id), so that neither Intern nor Get waits for a thread that is not there.
  void AfterForkInChild();

  // Tests only: called by an inserting thread (holding the insert lock) between claiming a slot
  // for a new stack and publishing its id.
  static inline void (*pause_while_inserting_for_test)() = nullptr;

 private:
  struct Slot {
    std::atomic<uint64_t> hash;  // 0 = empty
    std::atomic<uint32_t> id;    // 0 until published, then an id, kNoId or kLostId
    // The id's entry, copied: a lookup compares without another cache line.
    uint32_t depth_and_flag;
    uint64_t frames_offset;
  };
  struct Entry {              // per id, written before the id is visible
    uint32_t depth_and_flag;  // depth | truncated << 31
    uint32_t unused;
    uint64_t frames_offset;
  };
  // A stack that found the tables full: its lookups end here, with id 0.
  static constexpr uint32_t kNoId = UINT32_MAX;
  // Claimed by a thread of the parent that fork() left behind: nothing here, probing goes on.
  static constexpr uint32_t kLostId = UINT32_MAX - 1;
  static constexpr size_t kFirstSlots = 4096;
  static constexpr int kMaxTables = 24;
  // Linear probing gives up after this many slots: a full table costs a bounded search, not a
  // walk over all of it on every allocation.
  static constexpr size_t kMaxProbe = 256;

  enum class Probe { kFound, kAbsent, kExhausted };
  size_t SlotsOf(uint32_t table) const;
  size_t MaskOf(uint32_t table) const { return masks_[table]; }
  // Looks `hash` + frames up in one table: kFound (*id set, 0 for a stack the full tables left
  // out), kAbsent (an empty slot ends the run, its index in *empty), or kExhausted (kMaxProbe
  // slots, none empty).
  Probe Find(uint32_t table, uint64_t hash, const uint64_t* frames, uint32_t flag, uint32_t* id,
             size_t* empty) const;
  // Claims an empty slot of `table` for `hash` (from `from`): its index, or SIZE_MAX. With
  // `yield_to_same`, a slot another thread claimed for the same hash meanwhile ends the search.
  size_t Claim(uint32_t table, uint64_t hash, size_t from, bool yield_to_same);
  // Copies an id found in an older table into the newest one.
  void Promote(uint32_t newest, uint64_t hash, uint32_t id, const uint64_t* frames, uint32_t flag);
  // Fills a claimed slot and publishes `id` in it.
  void Publish(uint32_t table, size_t slot, uint32_t id);
  uint32_t InsertLocked(uint64_t hash, const uint64_t* frames, uint32_t depth, uint32_t flag);
  void AddTableLocked();

  std::atomic<Slot*> tables_[kMaxTables] = {};
  size_t masks_[kMaxTables] = {};                // written before the table is counted in ntables_
  std::atomic<uint32_t> used_[kMaxTables] = {};  // slots claimed per table
  std::atomic<uint32_t> ntables_{0};
  size_t max_slots_ = 0;
  Entry* entries_ = nullptr;  // by id
  size_t max_ids_ = 0;
  uint64_t* frames_ = nullptr;
  size_t max_frames_ = 0;
  std::atomic<uint64_t> frames_used_{0};
  std::atomic<uint32_t> next_id_{1};
  std::atomic<uint64_t> full_{0};
  std::atomic<bool> insert_lock_{false};
  // Threads between claiming a slot or an id and publishing it (or giving up). AfterForkInChild
  // has nothing to mend when it is 0.
  std::atomic<uint32_t> inserting_{0};
};

}  // namespace tierscope::recorder
