#include "decoder_snippets.h"

uint64_t ts_snip_global = 0x5eed;

#define TS_FN(name) ".globl " #name "\n.type " #name ",@function\n" #name ":\n.cfi_startproc\n"
#define TS_END(name) ".cfi_endproc\n.size " #name ", .-" #name "\n"

asm(".text\n"
    TS_FN(ts_snip_load_bisd)
    "  mov 16(%rdi,%rsi,8), %rax\n"
    "  ud2\n"
    "  ret\n"
    TS_END(ts_snip_load_bisd)

    TS_FN(ts_snip_store_bisd)
    "  movl %edx, 8(%rdi,%rsi,4)\n"
    "  ud2\n"
    "  ret\n"
    TS_END(ts_snip_store_bisd)

    TS_FN(ts_snip_avx_load)
    "  vmovdqu 32(%rdi), %ymm0\n"
    "  ud2\n"
    "  vmovq %xmm0, %rax\n"
    "  vzeroupper\n"
    "  ret\n"
    TS_END(ts_snip_avx_load)

    TS_FN(ts_snip_self_base)
    "  mov (%rdi), %rdi\n"
    "  ud2\n"
    "  mov %rdi, %rax\n"
    "  ret\n"
    TS_END(ts_snip_self_base)

    TS_FN(ts_snip_load_then_alu)
    "  mov 8(%rdi), %rax\n"
    "  add $1, %rsi\n"
    "  imul %rdx, %rsi\n"
    "  xor %ecx, %ecx\n"
    "  ud2\n"
    "  ret\n"
    TS_END(ts_snip_load_then_alu)

    TS_FN(ts_snip_load_then_bump)
    "  mov (%rdi), %rax\n"
    "  add $64, %rdi\n"
    "  ud2\n"
    "  ret\n"
    TS_END(ts_snip_load_then_bump)

    TS_FN(ts_snip_rip_load)
    "  mov ts_snip_global(%rip), %rax\n"
    "  ud2\n"
    "  ret\n"
    TS_END(ts_snip_rip_load)

    TS_FN(ts_snip_fs_load)
    "  mov %fs:0, %rax\n"
    "  ud2\n"
    "  ret\n"
    TS_END(ts_snip_fs_load)

    TS_FN(ts_rep_stos)
    "  mov %rsi, %rcx\n"
    "  xor %eax, %eax\n"
    ".globl ts_snip_rep_stos_insn\n"
    "ts_snip_rep_stos_insn:\n"
    "  rep stosb\n"
    "  ret\n"
    ".globl ts_rep_stos_end\n"
    "ts_rep_stos_end:\n"
    TS_END(ts_rep_stos)

    TS_FN(ts_rep_movs)
    "  mov %rdx, %rcx\n"
    ".globl ts_snip_rep_movs_insn\n"
    "ts_snip_rep_movs_insn:\n"
    "  rep movsb\n"
    "  ret\n"
    ".globl ts_rep_movs_end\n"
    "ts_rep_movs_end:\n"
    TS_END(ts_rep_movs)

    TS_FN(ts_hot_loop)
    "  xor %eax, %eax\n"
    "  xor %ecx, %ecx\n"
    "1:\n"
    "  mov %rcx, %r8\n"
    "  and %rsi, %r8\n"
    "  add (%rdi,%r8,8), %rax\n"
    "  mov %rax, (%rdi,%r8,8)\n"
    "  add $7, %rcx\n"
    "  dec %rdx\n"
    "  jnz 1b\n"
    "  ret\n"
    ".globl ts_hot_loop_end\n"
    "ts_hot_loop_end:\n"
    TS_END(ts_hot_loop));
