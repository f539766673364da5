#include "address_decoder.h"

#define UNW_LOCAL_ONLY
#include <Zydis/Zydis.h>
#include <dlfcn.h>
#include <elf.h>
#include <libunwind.h>
#include <link.h>

#include "tierscope/common/kernel_pages.h"

namespace tierscope::recorder::sampling {
namespace {

// How far back from the IP we look for the access that stalled, in instructions.
constexpr int kWalkBack = 16;
// Decoding forward from the function start costs one pass per new IP; bound it.
constexpr uint64_t kMaxFunctionBytes = 1 << 20;
constexpr int kRipSlot = 100;  // pseudo slot: RIP-relative

int SlotOf(ZydisRegister reg) {
  if (reg == ZYDIS_REGISTER_NONE) return -1;
  if (reg == ZYDIS_REGISTER_RIP || reg == ZYDIS_REGISTER_EIP) return kRipSlot;
  switch (ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg)) {
    case ZYDIS_REGISTER_RAX:
      return kRegAx;
    case ZYDIS_REGISTER_RBX:
      return kRegBx;
    case ZYDIS_REGISTER_RCX:
      return kRegCx;
    case ZYDIS_REGISTER_RDX:
      return kRegDx;
    case ZYDIS_REGISTER_RSI:
      return kRegSi;
    case ZYDIS_REGISTER_RDI:
      return kRegDi;
    case ZYDIS_REGISTER_RBP:
      return kRegBp;
    case ZYDIS_REGISTER_RSP:
      return kRegSp;
    case ZYDIS_REGISTER_R8:
      return kRegR8;
    case ZYDIS_REGISTER_R9:
      return kRegR9;
    case ZYDIS_REGISTER_R10:
      return kRegR10;
    case ZYDIS_REGISTER_R11:
      return kRegR11;
    case ZYDIS_REGISTER_R12:
      return kRegR12;
    case ZYDIS_REGISTER_R13:
      return kRegR13;
    case ZYDIS_REGISTER_R14:
      return kRegR14;
    case ZYDIS_REGISTER_R15:
      return kRegR15;
    default:
      return -2;  // a register not in the dump (vector, segment...)
  }
}

struct Insn {
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

// Instructions the walk back cannot cross: after them the registers may come from elsewhere (a
// callee, a jump source). A conditional branch just before the IP was not taken, or the IP is a
// jump target; the latter is equally possible after any instruction, so crossing it adds no risk.
bool IsControlFlow(const ZydisDecodedInstruction& in) {
  switch (in.meta.category) {
    case ZYDIS_CATEGORY_CALL:
    case ZYDIS_CATEGORY_RET:
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_SYSCALL:
    case ZYDIS_CATEGORY_INTERRUPT:
    case ZYDIS_CATEGORY_SYSTEM:
      return true;
    default:
      return false;
  }
}

bool IsRepString(const ZydisDecodedInstruction& in) {
  return in.meta.category == ZYDIS_CATEGORY_STRINGOP &&
         (in.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE));
}

// The data operand of `insn`: the first real memory operand. Hidden ones are implicit stack
// accesses (push, call), except for string instructions whose [rsi]/[rdi] are hidden.
const ZydisDecodedOperand* MemoryOperand(const Insn& insn) {
  // `nopl 0x0(%rax)` has a memory operand that is never accessed.
  if (insn.in.meta.category == ZYDIS_CATEGORY_NOP) return nullptr;
  const bool string_op = insn.in.meta.category == ZYDIS_CATEGORY_STRINGOP;
  for (int i = 0; i < insn.in.operand_count; ++i) {
    const ZydisDecodedOperand& op = insn.ops[i];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
    if (op.visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN && !string_op) continue;
    if (op.mem.type == ZYDIS_MEMOP_TYPE_MEM || op.mem.type == ZYDIS_MEMOP_TYPE_VSIB) return &op;
  }
  return nullptr;
}

// True when `insn` writes the full or partial register in `slot`.
bool Writes(const Insn& insn, int slot) {
  if (slot < 0 || slot == kRipSlot) return false;
  for (int i = 0; i < insn.in.operand_count; ++i) {
    const ZydisDecodedOperand& op = insn.ops[i];
    if (op.type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
    if (!(op.actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE))) continue;
    if (SlotOf(op.reg.value) == slot) return true;
  }
  return false;
}

// Fills the address part of `plan` from a memory operand. False with a reason when impossible.
bool PlanOperand(const Insn& insn, const ZydisDecodedOperand& op, uint64_t at, AccessPlan* plan) {
  if (op.mem.segment == ZYDIS_REGISTER_FS || op.mem.segment == ZYDIS_REGISTER_GS) {
    plan->reason = UndecodedReason::kFsGsSegment;
    return false;
  }
  if (op.mem.type == ZYDIS_MEMOP_TYPE_VSIB) {
    plan->reason = UndecodedReason::kVectorIndex;
    return false;
  }
  int base = SlotOf(op.mem.base), index = SlotOf(op.mem.index);
  if (base == -2 || index == -2) {
    plan->reason = UndecodedReason::kVectorIndex;
    return false;
  }
  plan->disp = op.mem.disp.has_displacement ? op.mem.disp.value : 0;
  if (base == kRipSlot) {  // relative to the next instruction: fold into the displacement
    plan->disp += static_cast<int64_t>(at + insn.in.length);
    base = -1;
  }
  plan->base = static_cast<int8_t>(base);
  plan->index = static_cast<int8_t>(index);
  plan->scale = index >= 0 ? op.mem.scale : 0;
  plan->address32 = insn.in.address_width == 32;
  plan->is_store = op.actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE);
  plan->instruction = at;
  plan->reason = UndecodedReason::kNone;
  return true;
}

// rsp-relative, or rbp-relative below the frame pointer (locals of frame-pointer code).
bool IsStackOperand(const AccessPlan& plan) {
  return plan.base == kRegSp || (plan.base == kRegBp && plan.index < 0 && plan.disp < 0);
}

bool FunctionBounds(uint64_t ip, uint64_t* start, uint64_t* end) {
  unw_proc_info_t info;
  if (unw_get_proc_info_by_ip(unw_local_addr_space, ip, &info, nullptr) == 0 &&
      info.start_ip <= ip && ip < info.end_ip) {
    *start = info.start_ip;
    *end = info.end_ip;
    return true;
  }
  // No unwind entry: fall back to the symbol table (needs the symbol to be dynamic).
  Dl_info dl;
  void* extra = nullptr;
  if (dladdr1(reinterpret_cast<void*>(ip), &dl, &extra, RTLD_DL_SYMENT) == 0) return false;
  const auto* sym = static_cast<const ElfW(Sym)*>(extra);
  if (sym != nullptr && dl.dli_saddr != nullptr && sym->st_size > 0) {
    *start = reinterpret_cast<uint64_t>(dl.dli_saddr);
    *end = *start + sym->st_size;
    return *start <= ip && ip < *end;
  }
  return false;
}

}  // namespace

struct AddressDecoder::State {
  ZydisDecoder decoder;
  AccessPlan fallback_slot;  // the cache when its pages could not be mapped

  bool DecodeAt(uint64_t at, uint64_t end, Insn* insn) const {
    const uint64_t avail =
        end - at < ZYDIS_MAX_INSTRUCTION_LENGTH ? end - at : ZYDIS_MAX_INSTRUCTION_LENGTH;
    return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, reinterpret_cast<const void*>(at), avail,
                                               &insn->in, insn->ops));
  }
};

const char* UndecodedReasonName(UndecodedReason reason) {
  switch (reason) {
    case UndecodedReason::kNone:
      return "decoded";
    case UndecodedReason::kNoUserRegs:
      return "no_user_regs";
    case UndecodedReason::kNoFunctionBounds:
      return "no_function_bounds";
    case UndecodedReason::kFunctionTooLarge:
      return "function_too_large";
    case UndecodedReason::kDecodeFailed:
      return "decode_failed";
    case UndecodedReason::kNotOnBoundary:
      return "ip_not_on_boundary";
    case UndecodedReason::kNoMemoryInstruction:
      return "no_memory_instruction";
    case UndecodedReason::kBranchBetween:
      return "branch_between";
    case UndecodedReason::kRegisterOverwritten:
      return "address_register_overwritten";
    case UndecodedReason::kFsGsSegment:
      return "fs_gs_segment";
    case UndecodedReason::kVectorIndex:
      return "vector_index";
    case UndecodedReason::kCount:
      break;
  }
  return "unknown";
}

AddressDecoder::AddressDecoder(size_t cache_slots) : state_(new State) {
  ZydisDecoderInit(&state_->decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  size_t slots = 1;
  while (slots < cache_slots) slots <<= 1;
  cache_ = common::MapArray<AccessPlan>(slots);
  // Without the memory, a one-slot cache of our own: decoding still works, only slower.
  cache_mask_ = cache_ ? slots - 1 : 0;
  if (!cache_) cache_ = &state_->fallback_slot;
}

AddressDecoder::~AddressDecoder() {
  if (cache_ != &state_->fallback_slot) common::UnmapArray(cache_, cache_mask_ + 1);
}

AccessPlan AddressDecoder::Plan(uint64_t ip) const {
  AccessPlan plan;
  plan.ip = ip;
  uint64_t start, end;
  if (!FunctionBounds(ip, &start, &end)) {
    plan.reason = UndecodedReason::kNoFunctionBounds;
    return plan;
  }
  if (ip - start > kMaxFunctionBytes) {
    plan.reason = UndecodedReason::kFunctionTooLarge;
    return plan;
  }
  // x86 cannot be decoded backwards: decode forward from the function start, remembering where
  // the last kWalkBack instructions began.
  uint64_t recent[kWalkBack];
  int count = 0;
  uint64_t at = start;
  Insn insn;
  while (at < ip) {
    if (!state_->DecodeAt(at, end, &insn)) {
      plan.reason = UndecodedReason::kDecodeFailed;
      return plan;
    }
    recent[count % kWalkBack] = at;
    ++count;
    at += insn.in.length;
  }
  if (at != ip) {
    plan.reason = UndecodedReason::kNotOnBoundary;
    return plan;
  }
  Insn current;
  const bool have_current = state_->DecodeAt(ip, end, &current);
  // A rep string instruction is interrupted mid-way: RSI/RDI point at the current element.
  if (have_current && IsRepString(current.in)) {
    if (const ZydisDecodedOperand* op = MemoryOperand(current)) {
      PlanOperand(current, *op, ip, &plan);
      return plan;
    }
  }
  // The interrupted IP is usually just after the access that stalled: walk back to it, and give
  // up when an address register was written since, or control flow could have come from elsewhere.
  UndecodedReason walk_reason = UndecodedReason::kNoMemoryInstruction;
  bool registers_written[kRipSlot + 1] = {};
  const int depth = count < kWalkBack ? count : kWalkBack;
  AccessPlan stack_access;  // first stack operand passed over (reason kNone when found)
  stack_access.reason = UndecodedReason::kCount;
  for (int back = 1; back <= depth; ++back) {
    const uint64_t where = recent[(count - back) % kWalkBack];
    Insn prev;
    if (!state_->DecodeAt(where, end, &prev)) break;
    if (IsControlFlow(prev.in)) {
      walk_reason = UndecodedReason::kBranchBetween;
      break;
    }
    if (const ZydisDecodedOperand* op = MemoryOperand(prev)) {
      AccessPlan candidate = plan;
      if (!PlanOperand(prev, *op, where, &candidate)) {
        walk_reason = candidate.reason;
        break;
      }
      // The access's own writes count too: `mov rax, [rax]` leaves rax holding the loaded value.
      const bool overwritten = Writes(prev, candidate.base) || Writes(prev, candidate.index) ||
                               (candidate.base >= 0 && registers_written[candidate.base]) ||
                               (candidate.index >= 0 && registers_written[candidate.index]);
      if (overwritten) {
        walk_reason = UndecodedReason::kRegisterOverwritten;
        break;
      }
      // The stack stays in L1: a sample right after a stack operand (a spilled divisor, a
      // local) most likely stalls on something else. Pass over it to the previous data access,
      // and report the stack access only when there is none.
      if (!IsStackOperand(candidate)) return candidate;
      if (stack_access.reason == UndecodedReason::kCount) stack_access = candidate;
    }
    for (int slot = 0; slot < kTimerRegCount; ++slot) {
      if (Writes(prev, slot)) registers_written[slot] = true;
    }
  }
  if (stack_access.reason == UndecodedReason::kNone) return stack_access;
  // Nothing usable before the IP: the instruction about to execute has current registers.
  if (have_current) {
    if (const ZydisDecodedOperand* op = MemoryOperand(current)) {
      AccessPlan at_ip = plan;
      if (PlanOperand(current, *op, ip, &at_ip)) return at_ip;
      if (walk_reason == UndecodedReason::kNoMemoryInstruction) walk_reason = at_ip.reason;
    }
  } else if (walk_reason == UndecodedReason::kNoMemoryInstruction) {
    walk_reason = UndecodedReason::kDecodeFailed;
  }
  plan.reason = walk_reason;
  return plan;
}

UndecodedReason AddressDecoder::Decode(const uint64_t* regs, DecodedAccess* out) {
  const uint64_t ip = regs[kRegIp];
  if (ip == 0) return UndecodedReason::kNoUserRegs;
  AccessPlan& slot = cache_[(ip ^ (ip >> 17)) & cache_mask_];
  if (slot.ip == ip) {
    ++cache_hits_;
  } else {
    ++cache_misses_;
    slot = Plan(ip);
  }
  if (slot.reason != UndecodedReason::kNone) return slot.reason;
  uint64_t address = static_cast<uint64_t>(slot.disp);
  if (slot.base >= 0) address += regs[slot.base];
  if (slot.index >= 0) address += regs[slot.index] * slot.scale;
  if (slot.address32) address &= 0xffffffffULL;
  out->address = address;
  out->is_store = slot.is_store;
  out->instruction = slot.instruction;
  return UndecodedReason::kNone;
}

}  // namespace tierscope::recorder::sampling
