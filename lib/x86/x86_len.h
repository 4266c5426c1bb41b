/* x86_len.h: the length of an x86-64 instruction, for the enclave kernel's syscall-site patcher
 * (which must know instruction boundaries before it rewrites code). Covers the one-byte map, the
 * 0F, 0F38 and 0F3A maps with legacy and REX prefixes, x87, and VEX (C4/C5) and EVEX (62)
 * encoded instructions. Says "unknown" (0) for what it does not model (3DNow!, XOP, opcodes that
 * are invalid in 64-bit mode, a REX prefix that is not right before the opcode, 66-prefixed
 * relative branches whose length Intel and AMD disagree on), so a caller can refuse to patch.
 * Never reads code[avail] or beyond. Needs no C library. */
#ifndef ALCOVE_X86_LEN_H
#define ALCOVE_X86_LEN_H

#include <stddef.h>
#include <stdint.h>

enum x86_kind {
    X86_OTHER = 0,
    X86_RET,  /* ret, ret imm16 (near) */
    X86_JMP,  /* unconditional near jmp: rel8, rel32 or indirect (FF /4) */
    X86_NOP,  /* 90, 0F 1F /0 with any prefixes: padding */
    X86_INT3, /* CC: padding too, in some toolchains */
    X86_JCC,  /* conditional jump rel8 or rel32 (70-7F, 0F 80-8F) */
    X86_CALL, /* call rel32 */
    X86_LOOP, /* loop, loope, loopne, jrcxz (E0-E3): rel8 */
    X86_UD2,  /* 0F 0B */
};

struct x86_insn {
    uint8_t len;      /* 1-15 */
    uint8_t kind;     /* enum x86_kind */
    uint8_t opcode;   /* the last opcode byte */
    uint8_t map;      /* 0: one-byte, 1: 0F, 2: 0F38, 3: 0F3A, 4+: VEX/EVEX (map + 4) */
    int8_t modrm_at;  /* offset of the ModRM byte, or -1 */
    int8_t rel_at;    /* offset of a branch displacement (rel8/rel32) or rip-relative disp32, or
                         -1 */
    uint8_t rel_size; /* 1 or 4 when rel_at >= 0 */
    uint8_t rip_rel;  /* 1 when rel_at is a rip-relative memory operand's displacement */
    uint8_t rex;      /* the REX byte, or 0 */
    uint8_t vex;      /* 1 when VEX or EVEX encoded */
};

/* The length (1-15) of the instruction at code[0], reading at most avail bytes, or 0 when it is
 * not decodable. *kind tells the few kinds the patcher cares about. */
unsigned x86_insn_len(const uint8_t *code, size_t avail, enum x86_kind *kind);

/* The same with the instruction's layout in *out (filled only when the result is not 0). */
unsigned x86_decode(const uint8_t *code, size_t avail, struct x86_insn *out);

#endif
