// Recovers the data address of a timer sample from the user registers it carries: decodes (with
// Zydis) the memory instruction the sample stands on or the one just before it. Owned by one
// drain thread; its per-IP cache needs no lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "perf_attr.h"

namespace tierscope::recorder::sampling {

// Why a sample got no address. Names (UndecodedReasonName) go into the trace's counters.
enum class UndecodedReason : uint8_t {
  kNone = 0,
  kNoUserRegs,           // the sample hit the kernel or had no register dump
  kNoFunctionBounds,     // no .eh_frame entry or symbol covers the IP (JIT code, stripped)
  kFunctionTooLarge,     // the IP is too far from the function start to decode forward
  kDecodeFailed,         // bytes that are not an instruction (data in code, bad bounds)
  kNotOnBoundary,        // decoding forward from the function start skips over the IP
  kNoMemoryInstruction,  // no memory operand at the IP nor just before it
  kBranchBetween,        // a call/jump/ret separates the IP from the previous memory access
  kRegisterOverwritten,  // the base/index register changed after the access
  kFsGsSegment,          // fs:/gs: operand: the segment base is not in the register dump
  kVectorIndex,          // gather/scatter: the index is a vector register we cannot read
  kCount,
};
const char* UndecodedReasonName(UndecodedReason reason);

struct DecodedAccess {
  uint64_t address = 0;
  bool is_store = false;
  uint64_t instruction = 0;  // address of the memory instruction that was decoded
};

// How to compute the address for one sampled IP; cached. Public for tests.
struct AccessPlan {
  uint64_t ip = 0;  // 0: empty cache slot
  UndecodedReason reason = UndecodedReason::kNone;
  bool is_store = false;
  bool address32 = false;  // addr32 prefix: truncate to 32 bits
  int8_t base = -1;        // register slot (PerfRegSlot) or -1
  int8_t index = -1;
  uint8_t scale = 0;
  int64_t disp = 0;  // RIP-relative operands are folded into disp with base -1
  uint64_t instruction = 0;
};

class AddressDecoder {
 public:
  // `cache_slots` is rounded up to a power of two and allocated here, once.
  explicit AddressDecoder(size_t cache_slots = 1 << 14);
  ~AddressDecoder();
  AddressDecoder(const AddressDecoder&) = delete;
  AddressDecoder& operator=(const AddressDecoder&) = delete;

  // `regs` in kTimerRegsMask order (regs[kRegIp] is the sampled IP). Returns kNone on success.
  UndecodedReason Decode(const uint64_t* regs, DecodedAccess* out);

  // The plan for `ip`, decoded from the code mapped in this process (bypasses the cache).
  AccessPlan Plan(uint64_t ip) const;

  uint64_t cache_hits() const { return cache_hits_; }
  uint64_t cache_misses() const { return cache_misses_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  // In zero-filled pages, where a slot with ip 0 is empty: only the slots used are ever backed
  // (constructed, the 16384 plans wrote 512 KB at every process start).
  AccessPlan* cache_ = nullptr;
  size_t cache_mask_ = 0;
  uint64_t cache_hits_ = 0, cache_misses_ = 0;
};

}  // namespace tierscope::recorder::sampling
