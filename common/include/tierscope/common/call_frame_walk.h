// The recorder's and the placer's stack walk: from an entry point's own frame up, one step per
// frame by the rule the caller's module gives for that return address (call_frame_rules.h), each
// rule looked up once and then kept in a lock-free table shared by every thread, fronted by a
// small table of each thread's recent rules (one line in L1 per frame, where the shared table's
// slot is mostly an L2 miss). The frames are libunwind's (the same tables, read the same way),
// without its per-frame cost. A frame the rules do not describe, or a step that leaves this
// thread's stack, ends the walk with "ask libunwind" (-1), never with a guess.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tierscope/common/call_frame_rules.h"

namespace tierscope::common {

// Return address -> StepRule::Pack(), lock-free for readers and writers, in its own mapping.
// Readers never wait and never see a torn pair: a writer claims an empty slot, writes the rule,
// then publishes the key; a reader checks the key again after reading the rule (a slot emptied
// and refilled by Clear in between reads as a miss). Key and rule share a slot: one cache line per
// look-up. Two threads learning the same rule at once may both keep it (the same rule twice).
class StepRuleCache {
 public:
  static constexpr size_t kSlots = size_t{1} << 16;
  static constexpr int kProbes = 16;

  bool Init() {
    void* p = mmap(nullptr, kSlots * sizeof(Slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    slots_ = p == MAP_FAILED ? nullptr : static_cast<Slot*>(p);
    return slots_ != nullptr;
  }
  bool ready() const { return slots_ != nullptr; }

  // The packed rule of `pc`, or 0 when it is not cached.
  uint64_t Find(uint64_t pc) const {
    size_t i = Index(pc);
    for (int probe = 0; probe < kProbes; ++probe, i = (i + 1) & (kSlots - 1)) {
      const uint64_t key = slots_[i].pc.load(std::memory_order_acquire);
      if (key == pc) {
        const uint64_t rule = slots_[i].rule.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        return slots_[i].pc.load(std::memory_order_relaxed) == pc ? rule : 0;
      }
      if (key == 0) return 0;
    }
    return 0;
  }

  // Keeps `rule` for `pc`. False when the probe run is full (not kept).
  bool Insert(uint64_t pc, uint64_t rule) {
    size_t i = Index(pc);
    for (int probe = 0; probe < kProbes; ++probe, i = (i + 1) & (kSlots - 1)) {
      uint64_t key = slots_[i].pc.load(std::memory_order_acquire);
      if (key == pc) return true;
      if (key == 0 &&
          slots_[i].pc.compare_exchange_strong(key, kClaimed, std::memory_order_acq_rel)) {
        slots_[i].rule.store(rule, std::memory_order_relaxed);
        slots_[i].pc.store(pc, std::memory_order_release);
        size_.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
      if (key == pc) return true;
    }
    return false;
  }

  // Forgets every rule (after dlclose, an address may now be another module's). Threads' recent
  // rules see the new generation and forget theirs. A rule being kept while this runs may stay.
  void Clear() {
    for (size_t i = 0; i < kSlots; ++i) {
      if (slots_[i].pc.load(std::memory_order_relaxed)) {
        slots_[i].pc.store(0, std::memory_order_release);
      }
    }
    size_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  size_t size() const { return size_.load(std::memory_order_relaxed); }
  uint32_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  static constexpr uint64_t kClaimed = 1;  // a slot being written (no return address is 1)
  struct Slot {
    std::atomic<uint64_t> pc;
    std::atomic<uint64_t> rule;
  };
  static size_t Index(uint64_t pc) { return (pc * 0x9e3779b97f4a7c15ull) >> 48; }

  Slot* slots_ = nullptr;
  std::atomic<size_t> size_{0};
  std::atomic<uint32_t> generation_{0};
};

// One thread's recent rules, written only by its thread: the rules of its last walk, step by step
// (a walk from the same place finds them at the same steps, one compare each), then 256 recent
// ones, direct-mapped. 5 KiB; all zero is empty (a zero pc never steps). `generation` follows
// StepRuleCache::generation().
struct RecentStepRules {
  static constexpr size_t kSlots = 256;
  static constexpr int kLastSteps = 64;
  struct Entry {
    uint64_t pc, rule;
  };
  Entry last[kLastSteps];
  Entry entries[kSlots];
  uint32_t generation;

  static size_t Index(uint64_t pc) { return (pc * 0x9e3779b97f4a7c15ull) >> 56; }
  uint64_t Find(uint64_t pc) const {
    const Entry& e = entries[Index(pc)];
    return e.pc == pc ? e.rule : 0;
  }
  void Keep(uint64_t pc, uint64_t rule) { entries[Index(pc)] = Entry{pc, rule}; }
  // Forgets everything when the shared table was cleared since (its generation `now`).
  void Follow(uint32_t now) {
    if (__builtin_expect(generation == now, 1)) return;
    for (Entry& e : last) e = Entry{0, 0};
    for (Entry& e : entries) e = Entry{0, 0};
    generation = now;
  }
};

// The packed rule of `pc`, met at `step` of a walk: this thread's recent rules, else the shared
// table, else learned from the module's tables (StepRuleOf) and kept in both.
inline __attribute__((always_inline)) uint64_t RuleFor(uint64_t pc, int step,
                                                       RecentStepRules& recent,
                                                       StepRuleCache& shared) {
  const bool tracked = step < RecentStepRules::kLastSteps;
  if (tracked && recent.last[step].pc == pc) return recent.last[step].rule;
  uint64_t rule = recent.Find(pc);
  if (__builtin_expect(rule == 0, 0)) {
    rule = shared.Find(pc);
    if (rule == 0) {
      rule = StepRuleOf(pc).Pack();
      shared.Insert(pc, rule);  // a full probe run: learned again next time (rare)
    }
    recent.Keep(pc, rule);
  }
  if (tracked) recent.last[step] = RecentStepRules::Entry{pc, rule};
  return rule;
}

// Where the walk starts: the entry point's return address, and the caller's rsp and rbp as they
// are when the entry point returns.
struct WalkStart {
  uintptr_t pc, rsp, rbp;
};

// The start of a walk from an entry point built with frame pointers (`fp` its
// __builtin_frame_address(0)): its frame holds the caller's rbp, then the return address.
inline WalkStart StartAtFrame(void* ret, void* fp) {
  const uintptr_t f = reinterpret_cast<uintptr_t>(fp);
  return WalkStart{reinterpret_cast<uintptr_t>(ret), f + 16,
                   *reinterpret_cast<const uintptr_t*>(f)};
}

// A walk in progress: the frame whose return address is `pc`, the caller's rsp and rbp as they
// are when that frame returns, and the steps taken so far (RecentStepRules' index).
struct CallFrameCursor {
  uintptr_t pc, rsp, rbp;
  int step = 0;
};

enum class FrameStep {
  kStepped,  // `pc` is now the caller's return address
  kEnd,      // the outermost frame: no caller
  kLost,     // no rule, or a word outside the stack: libunwind must walk this stack
};

// One step to the caller of the frame at `c`, every word read within [c.rsp, hi).
// `rule_of(pc, step)`: the packed rule of the return address met at that step of the walk (0:
// none could be had now).
template <typename RuleOf>
inline __attribute__((always_inline)) FrameStep StepCallFrame(CallFrameCursor& c, uintptr_t hi,
                                                              RuleOf&& rule_of) {
  const uint64_t packed = rule_of(c.pc, c.step++);
  if (packed == 0) return FrameStep::kLost;
  const StepRule rule = StepRule::Unpack(packed);
  const uintptr_t rsp = c.rsp;
  // A word of this frame: between rsp and the stack's top (a wild rbp fails here).
  auto in_frame = [rsp, hi](uintptr_t at) { return at >= rsp && hi >= 8 && at <= hi - 8; };
  uintptr_t cfa;
  if (rule.base == StepRule::kRsp) {
    cfa = rsp + static_cast<uint32_t>(rule.cfa_offset);
  } else if (rule.base == StepRule::kRbp) {
    cfa = c.rbp + static_cast<uint32_t>(rule.cfa_offset);
  } else if (rule.base == StepRule::kRbpDeref) {
    const uintptr_t at = c.rbp + static_cast<uintptr_t>(static_cast<intptr_t>(rule.cfa_offset));
    if (!in_frame(at)) return FrameStep::kLost;
    cfa = *reinterpret_cast<const uintptr_t*>(at);
  } else if (rule.base == StepRule::kOutermost) {
    return FrameStep::kEnd;
  } else {
    return FrameStep::kLost;
  }
  // The caller's frame lies above this one, within the stack.
  if (cfa <= rsp || cfa > hi) return FrameStep::kLost;
  if (rule.saved_rbp != StepRule::kRbpSame) {
    const uintptr_t from = rule.saved_rbp == StepRule::kRbpAtCfa ? cfa : c.rbp;
    const uintptr_t at = from + static_cast<uintptr_t>(static_cast<intptr_t>(rule.rbp_offset));
    if (!in_frame(at)) return FrameStep::kLost;
    c.rbp = *reinterpret_cast<const uintptr_t*>(at);
  }
  c.pc = *reinterpret_cast<const uintptr_t*>(cfa - 8);
  c.rsp = cfa;
  return c.pc == 0 ? FrameStep::kEnd : FrameStep::kStepped;
}

// The cursor of a walk from `at`, stepped past the return addresses inside [skip_lo, skip_hi)
// (the walker's own code), as libunwind's frames are after the placer drops its own. False
// when the walk cannot start or gets lost or ends there.
template <typename RuleOf>
inline __attribute__((always_inline)) bool StartCallFrames(WalkStart at, uintptr_t lo, uintptr_t hi,
                                                           uintptr_t skip_lo, uintptr_t skip_hi,
                                                           CallFrameCursor* c, RuleOf&& rule_of) {
  if (at.rsp < lo || at.rsp > hi) return false;
  *c = CallFrameCursor{at.pc, at.rsp, at.rbp, 0};
  while (c->pc >= skip_lo && c->pc < skip_hi) {
    if (StepCallFrame(*c, hi, rule_of) != FrameStep::kStepped) return false;
  }
  return true;
}

// Up to `depth` return addresses into `frames`, the ones inside [skip_lo, skip_hi) at the start
// (the walker's own code) left out. Every word read lies in [lo, hi) (this thread's stack) above
// the last frame's. Returns the frames collected, or -1: libunwind must walk this stack.
template <typename RuleOf>
inline __attribute__((always_inline)) int WalkCallFrames(WalkStart at, uintptr_t lo, uintptr_t hi,
                                                         uintptr_t skip_lo, uintptr_t skip_hi,
                                                         int depth, uint64_t* frames,
                                                         RuleOf&& rule_of) {
  if (at.rsp < lo || at.rsp > hi) return -1;
  CallFrameCursor c{at.pc, at.rsp, at.rbp, 0};
  int n = 0;
  for (;;) {
    if (n > 0 || c.pc < skip_lo || c.pc >= skip_hi) {
      frames[n++] = c.pc;
      if (n == depth) return n;
    }
    switch (StepCallFrame(c, hi, rule_of)) {
      case FrameStep::kStepped:
        break;
      case FrameStep::kEnd:
        return n;
      case FrameStep::kLost:
        return -1;
    }
  }
}

}  // namespace tierscope::common
