#include "tierscope/common/call_frame_rules.h"

#include <dlfcn.h>

#include <cstdint>
#include <cstring>

namespace tierscope::common {

#if defined(__x86_64__)
namespace {

// DWARF registers of x86-64.
constexpr unsigned kRbp = 6, kRsp = 7, kReturnAddress = 16;

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;

  bool Has(size_t n) {
    if (static_cast<size_t>(end - p) < n) ok = false;
    return ok;
  }
  uint8_t U8() { return Has(1) ? *p++ : 0; }
  template <typename T>
  T Fixed() {
    T v{};
    if (Has(sizeof(T))) {
      std::memcpy(&v, p, sizeof(T));
      p += sizeof(T);
    }
    return v;
  }
  uint64_t Uleb() {
    uint64_t v = 0;
    for (int shift = 0; ok; shift += 7) {
      const uint8_t b = U8();
      if (shift < 64) v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    return v;
  }
  int64_t Sleb() {
    int64_t v = 0;
    int shift = 0;
    uint8_t b = 0;
    do {
      b = U8();
      if (shift < 64) v |= int64_t(b & 0x7f) << shift;
      shift += 7;
    } while ((b & 0x80) && ok);
    if (shift < 64 && (b & 0x40)) v |= -(int64_t{1} << shift);
    return v;
  }
  // A DW_EH_PE-encoded pointer. `datarel`: the base of datarel values (.eh_frame_hdr).
  uint64_t Encoded(uint8_t enc, uintptr_t datarel = 0) {
    if (enc == 0xff) return 0;  // omit
    const uintptr_t here = reinterpret_cast<uintptr_t>(p);
    uint64_t v = 0;
    switch (enc & 0x0f) {
      case 0x00:
        v = Fixed<uint64_t>();
        break;
      case 0x01:
        v = Uleb();
        break;
      case 0x02:
        v = Fixed<uint16_t>();
        break;
      case 0x03:
        v = Fixed<uint32_t>();
        break;
      case 0x04:
        v = Fixed<uint64_t>();
        break;
      case 0x09:
        v = static_cast<uint64_t>(Sleb());
        break;
      case 0x0a:
        v = static_cast<uint64_t>(int64_t{Fixed<int16_t>()});
        break;
      case 0x0b:
        v = static_cast<uint64_t>(int64_t{Fixed<int32_t>()});
        break;
      case 0x0c:
        v = Fixed<uint64_t>();
        break;
      default:
        ok = false;
        return 0;
    }
    switch (enc & 0x70) {
      case 0x00:
        break;
      case 0x10:
        v += here;
        break;  // pcrel
      case 0x30:
        v += datarel;
        break;  // datarel
      default:
        ok = false;
        return 0;  // textrel, funcrel, aligned: not written on x86-64
    }
    return v;  // DW_EH_PE_indirect (0x80) only matters for the value of a personality
  }
};

// A register's rule: the same value, saved at CFA + offset, saved at rbp + offset (an expression
// DW_OP_breg6 offset), undefined, or anything else.
struct Rule {
  enum Kind : uint8_t { kSame, kOffset, kAtRbp, kUndefined, kOther } kind = kSame;
  int64_t offset = 0;
};

struct Row {
  unsigned cfa_reg = 7;  // rsp
  int64_t cfa_offset = 8;
  bool cfa_deref = false;       // CFA = the word at cfa_reg + cfa_offset
  bool cfa_expression = false;  // any other expression
  Rule rbp, ra;
};

// The DWARF expression at r.p (its length first, as DW_CFA_def_cfa_expression and
// DW_CFA_expression write it) when it is DW_OP_breg6 (rbp) offset, then DW_OP_deref if `deref`:
// the offset. Skips the expression either way.
bool RbpRelativeExpression(Reader& r, bool deref, int64_t* offset) {
  const uint64_t len = r.Uleb();
  if (!r.ok || len > static_cast<uint64_t>(r.end - r.p)) {
    r.ok = false;
    return false;
  }
  Reader e{r.p, r.p + len};
  r.p += len;
  if (e.U8() != 0x76) return false;  // DW_OP_breg6
  *offset = e.Sleb();
  if (deref && e.U8() != 0x06) return false;  // DW_OP_deref
  return e.ok && e.p == e.end;
}

class Interpreter {
 public:
  Interpreter(uint64_t code_align, int64_t data_align) : caf_(code_align), daf_(data_align) {}

  // Runs instructions until the row that covers `target` (stops past it). False: an
  // instruction it does not know (the caller then trusts nothing).
  bool Run(Reader r, uint64_t* loc, uint64_t target) {
    while (r.ok && r.p < r.end) {
      const uint8_t op = r.U8();
      const uint8_t low = op & 0x3f;
      switch (op >> 6) {
        case 1:  // advance_loc
          if (!Advance(loc, low * caf_, target)) return true;
          continue;
        case 2:  // offset
          Set(low, Rule{Rule::kOffset, int64_t(r.Uleb()) * daf_});
          continue;
        case 3:  // restore
          Set(low, Initial(low));
          continue;
        default:
          break;
      }
      switch (op) {
        case 0x00:
          break;      // nop
        case 0x01: {  // set_loc
          const uint64_t to = r.Encoded(fde_encoding_);
          if (to > target) return true;
          *loc = to;
          break;
        }
        case 0x02:
          if (!Advance(loc, r.U8() * caf_, target)) return true;
          break;
        case 0x03:
          if (!Advance(loc, r.Fixed<uint16_t>() * caf_, target)) return true;
          break;
        case 0x04:
          if (!Advance(loc, r.Fixed<uint32_t>() * caf_, target)) return true;
          break;
        case 0x05: {  // offset_extended
          const uint64_t reg = r.Uleb();
          Set(reg, Rule{Rule::kOffset, int64_t(r.Uleb()) * daf_});
          break;
        }
        case 0x06: {  // restore_extended
          const uint64_t reg = r.Uleb();
          Set(reg, Initial(reg));
          break;
        }
        case 0x07:  // undefined
        case 0x08:  // same_value
          Set(r.Uleb(), Rule{op == 0x08 ? Rule::kSame : Rule::kUndefined, 0});
          break;
        case 0x09: {  // register
          const uint64_t reg = r.Uleb();
          r.Uleb();
          Set(reg, Rule{Rule::kOther, 0});
          break;
        }
        case 0x0a:  // remember_state
          if (depth_ == kStack) return false;
          stack_[depth_++] = row_;
          break;
        case 0x0b:  // restore_state
          if (depth_ == 0) return false;
          row_ = stack_[--depth_];
          break;
        case 0x0c:  // def_cfa
          row_.cfa_reg = static_cast<unsigned>(r.Uleb());
          row_.cfa_offset = static_cast<int64_t>(r.Uleb());
          row_.cfa_expression = row_.cfa_deref = false;
          break;
        case 0x0d:  // def_cfa_register
          row_.cfa_reg = static_cast<unsigned>(r.Uleb());
          row_.cfa_expression = row_.cfa_deref = false;
          break;
        case 0x0e:  // def_cfa_offset (of a register rule only)
          row_.cfa_offset = static_cast<int64_t>(r.Uleb());
          if (row_.cfa_deref) row_.cfa_expression = true;
          break;
        case 0x0f: {  // def_cfa_expression
          int64_t offset = 0;
          const bool deref = RbpRelativeExpression(r, true, &offset);
          row_.cfa_expression = !deref;
          row_.cfa_deref = deref;
          row_.cfa_reg = kRbp;
          row_.cfa_offset = offset;
          break;
        }
        case 0x10: {  // expression
          const uint64_t reg = r.Uleb();
          int64_t offset = 0;
          const bool at_rbp = RbpRelativeExpression(r, false, &offset);
          Set(reg, at_rbp ? Rule{Rule::kAtRbp, offset} : Rule{Rule::kOther, 0});
          break;
        }
        case 0x11: {  // offset_extended_sf
          const uint64_t reg = r.Uleb();
          Set(reg, Rule{Rule::kOffset, r.Sleb() * daf_});
          break;
        }
        case 0x12:  // def_cfa_sf
          row_.cfa_reg = static_cast<unsigned>(r.Uleb());
          row_.cfa_offset = r.Sleb() * daf_;
          row_.cfa_expression = row_.cfa_deref = false;
          break;
        case 0x13:  // def_cfa_offset_sf
          row_.cfa_offset = r.Sleb() * daf_;
          if (row_.cfa_deref) row_.cfa_expression = true;
          break;
        case 0x14:    // val_offset
        case 0x15: {  // val_offset_sf
          const uint64_t reg = r.Uleb();
          if (op == 0x14) {
            r.Uleb();
          } else {
            r.Sleb();
          }
          Set(reg, Rule{Rule::kOther, 0});
          break;
        }
        case 0x16: {  // val_expression
          const uint64_t reg = r.Uleb();
          r.p += r.Uleb();
          Set(reg, Rule{Rule::kOther, 0});
          break;
        }
        case 0x2e:
          r.Uleb();
          break;      // GNU_args_size
        case 0x2f: {  // GNU_negative_offset_extended
          const uint64_t reg = r.Uleb();
          Set(reg, Rule{Rule::kOffset, -int64_t(r.Uleb()) * daf_});
          break;
        }
        default:
          return false;
      }
    }
    return r.ok;
  }

  void KeepAsInitial() { initial_ = row_; }
  void set_fde_encoding(uint8_t enc) { fde_encoding_ = enc; }
  const Row& row() const { return row_; }

 private:
  static constexpr int kStack = 16;
  bool Advance(uint64_t* loc, uint64_t delta, uint64_t target) {
    if (*loc + delta > target) return false;
    *loc += delta;
    return true;
  }
  void Set(uint64_t reg, Rule rule) {
    if (reg == kRbp) row_.rbp = rule;
    if (reg == kReturnAddress) row_.ra = rule;
  }
  Rule Initial(uint64_t reg) const {
    return reg == kRbp ? initial_.rbp : reg == kReturnAddress ? initial_.ra : Rule{};
  }

  uint64_t caf_;
  int64_t daf_;
  uint8_t fde_encoding_ = 0;
  Row row_, initial_;
  Row stack_[kStack];
  int depth_ = 0;
};

// The FDE that covers `pc` by the binary search table of .eh_frame_hdr, or null.
const uint8_t* FindFde(uintptr_t hdr, uintptr_t pc) {
  Reader r{reinterpret_cast<const uint8_t*>(hdr), reinterpret_cast<const uint8_t*>(hdr) + 16};
  if (r.U8() != 1) return nullptr;
  const uint8_t frame_enc = r.U8(), count_enc = r.U8(), table_enc = r.U8();
  r.end = r.p + 16;
  r.Encoded(frame_enc, hdr);
  const uint64_t count = r.Encoded(count_enc, hdr);
  // Every linker writes the table as datarel sdata4 pairs; anything else is not trusted.
  if (!r.ok || table_enc != 0x3b || count == 0 || count > (uint64_t{1} << 28)) return nullptr;
  const auto* table = reinterpret_cast<const int32_t*>(r.p);
  uint64_t lo = 0, hi = count;  // the last entry whose start is <= pc
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (hdr + static_cast<int64_t>(table[2 * mid]) <= pc) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  if (hdr + static_cast<int64_t>(table[2 * lo]) > pc) return nullptr;
  return reinterpret_cast<const uint8_t*>(hdr + static_cast<int64_t>(table[2 * lo + 1]));
}

}  // namespace

StepRule StepRuleAt(uintptr_t eh_frame_hdr, uintptr_t return_address) {
  const StepRule unknown;
  if (eh_frame_hdr == 0 || return_address == 0) return unknown;
  const uintptr_t pc = return_address - 1;  // inside the call instruction
  const uint8_t* fde = FindFde(eh_frame_hdr, pc);
  if (fde == nullptr) return unknown;
  uint32_t length;
  std::memcpy(&length, fde, 4);
  if (length == 0 || length == 0xffffffff) return unknown;
  Reader f{fde + 4, fde + 4 + length};
  const uint8_t* cie_pointer_at = f.p;
  const uint32_t cie_offset = f.Fixed<uint32_t>();
  const uint8_t* cie = cie_pointer_at - cie_offset;
  uint32_t cie_length;
  std::memcpy(&cie_length, cie, 4);
  if (cie_offset == 0 || cie_length == 0 || cie_length == 0xffffffff) return unknown;
  Reader c{cie + 4, cie + 4 + cie_length};
  if (c.Fixed<uint32_t>() != 0) return unknown;  // a CIE's id
  const uint8_t version = c.U8();
  if (version != 1 && version != 3) return unknown;
  const char* augmentation = reinterpret_cast<const char*>(c.p);
  const size_t aug_len = strnlen(augmentation, static_cast<size_t>(c.end - c.p));
  c.p += aug_len + 1;
  const uint64_t code_align = c.Uleb();
  const int64_t data_align = c.Sleb();
  const uint64_t ra_column = version == 1 ? c.U8() : c.Uleb();
  if (!c.ok || ra_column != kReturnAddress) return unknown;
  uint8_t fde_enc = 0;
  bool has_z = aug_len > 0 && augmentation[0] == 'z';
  if (aug_len > 0 && !has_z) return unknown;  // "eh" and other ancient forms
  if (has_z) {
    const uint64_t data_len = c.Uleb();
    const uint8_t* data_end = c.p + data_len;
    for (size_t i = 1; i < aug_len && c.ok; ++i) {
      switch (augmentation[i]) {
        case 'R':
          fde_enc = c.U8();
          break;
        case 'P':
          c.Encoded(c.U8() & 0x7f);
          break;
        case 'L':
          c.U8();
          break;
        case 'S':
          return unknown;  // a signal frame: never walked through by frame pointers
        default:
          i = aug_len;
          break;  // unknown: the data length still skips it
      }
    }
    c.p = data_end;
  }
  if (!c.ok || c.p > c.end) return unknown;
  const uint64_t start = f.Encoded(fde_enc);
  const uint64_t range = f.Encoded(fde_enc & 0x0f);
  if (!f.ok || pc < start || pc >= start + range) return unknown;
  if (has_z) f.p += f.Uleb();
  if (!f.ok || f.p > f.end) return unknown;

  Interpreter cfa(code_align, data_align);
  cfa.set_fde_encoding(fde_enc);
  uint64_t loc = start;
  if (!cfa.Run(c, &loc, ~uint64_t{0})) return unknown;
  cfa.KeepAsInitial();
  loc = start;
  if (!cfa.Run(f, &loc, pc)) return unknown;
  const Row& row = cfa.row();
  if (row.ra.kind == Rule::kUndefined) return StepRule{StepRule::kOutermost};
  if (row.cfa_expression || (row.cfa_reg != kRsp && row.cfa_reg != kRbp)) return unknown;
  if (row.ra.kind != Rule::kOffset || row.ra.offset != -8) return unknown;
  StepRule rule;
  if (row.cfa_deref) {
    if (row.cfa_offset < INT16_MIN || row.cfa_offset > INT16_MAX) return unknown;
    rule.base = StepRule::kRbpDeref;
  } else {
    if (row.cfa_offset < 8 || row.cfa_offset > INT32_MAX) return unknown;
    rule.base = row.cfa_reg == kRsp ? StepRule::kRsp : StepRule::kRbp;
  }
  rule.cfa_offset = static_cast<int32_t>(row.cfa_offset);
  if (row.rbp.kind == Rule::kOffset || row.rbp.kind == Rule::kAtRbp) {
    if (row.rbp.offset < INT16_MIN || row.rbp.offset > INT16_MAX) return unknown;
    if (row.rbp.kind == Rule::kOffset && row.rbp.offset >= -8) return unknown;  // not below RA
    rule.saved_rbp = row.rbp.kind == Rule::kOffset ? StepRule::kRbpAtCfa : StepRule::kRbpAtRbp;
    rule.rbp_offset = static_cast<int16_t>(row.rbp.offset);
  } else if (row.rbp.kind != Rule::kSame) {
    return unknown;
  }
  return rule;
}

StepRule StepRuleOf(uintptr_t return_address) {
  dl_find_object found;
  if (return_address == 0 ||
      _dl_find_object(reinterpret_cast<void*>(return_address - 1), &found) != 0) {
    return StepRule{};
  }
  return StepRuleAt(reinterpret_cast<uintptr_t>(found.dlfo_eh_frame), return_address);
}

#else

StepRule StepRuleAt(uintptr_t, uintptr_t) {
  return StepRule{};
}
StepRule StepRuleOf(uintptr_t) {
  return StepRule{};
}

#endif

}  // namespace tierscope::common
