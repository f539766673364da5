// Real instructions for the decoder tests, in assembly so the compiler (or ASan) cannot add or
// reorder accesses. Each "snippet" performs one access and then hits ud2: the SIGILL handler
// captures the registers at that point, exactly like a sample taken just after the access.
#pragma once

#include <cstdint>

extern "C" {
// rax = *(uint64_t*)(buf + index*8 + 16)
uint64_t ts_snip_load_bisd(const uint64_t* buf, uint64_t index);
// *(uint32_t*)(buf + index*4 + 8) = value
void ts_snip_store_bisd(uint32_t* buf, uint64_t index, uint32_t value);
// returns the first 8 bytes of a 32-byte AVX load from buf + 32
uint64_t ts_snip_avx_load(const uint8_t* buf);
// p = *pp: the load overwrites its own base register
uint64_t ts_snip_self_base(uint64_t* const* pp);
// load from buf + 8, then three ALU instructions that leave the base alone
uint64_t ts_snip_load_then_alu(const uint64_t* buf, uint64_t a, uint64_t b);
// load from buf, then the base register is advanced before the sample point
uint64_t ts_snip_load_then_bump(const uint64_t* buf);
// load of ts_snip_global through a RIP-relative operand
uint64_t ts_snip_rip_load();
extern uint64_t ts_snip_global;
// load through fs: (the TCB self pointer)
uint64_t ts_snip_fs_load();
// rep stosb of n zero bytes at dst; rep movsb of n bytes (no ud2: sampled mid-way for real)
void ts_rep_stos(void* dst, uint64_t n);
void ts_rep_movs(void* dst, const void* src, uint64_t n);
// sum of buf[(i*7) & mask] over `iterations`, each slot then overwritten with the running sum
uint64_t ts_hot_loop(uint64_t* buf, uint64_t mask, uint64_t iterations);
// labels at the ud2 of each snippet and at the ends of the sampled functions
extern const char ts_snip_rep_stos_insn[], ts_snip_rep_movs_insn[];
extern const char ts_hot_loop_end[], ts_rep_stos_end[], ts_rep_movs_end[];
}
