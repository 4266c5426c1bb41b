/* x86_len.c: x86-64 instruction lengths (see x86_len.h). Opcode facts from the Intel SDM, volume 2,
 * appendix A (opcode maps). */
#include "x86/x86_len.h"

/* What follows an opcode of the one-byte map. */
enum {
    N = 0,    /* nothing */
    M = 1,    /* ModRM (with SIB and displacement) */
    I8 = 2,   /* imm8 */
    IZ = 4,   /* imm16 or imm32 (operand size) */
    I16 = 8,  /* imm16 */
    BAD = 16, /* invalid in 64-bit mode, or not modelled */
    PFX = 32, /* a prefix: not an opcode */
    IV = 64,  /* B8-BF: imm16, imm32 or imm64 */
    AO = 128, /* A0-A3: an address-sized offset */
    MI8 = M | I8,
    MIZ = M | IZ,
};

static const uint8_t g_one[256] = {
    /* 00 */ M,
    M,
    M,
    M,
    I8,
    IZ,
    BAD,
    BAD,
    M,
    M,
    M,
    M,
    I8,
    IZ,
    BAD,
    BAD /* 0F: in code */,
    /* 10 */ M,
    M,
    M,
    M,
    I8,
    IZ,
    BAD,
    BAD,
    M,
    M,
    M,
    M,
    I8,
    IZ,
    BAD,
    BAD,
    /* 20 */ M,
    M,
    M,
    M,
    I8,
    IZ,
    PFX,
    BAD,
    M,
    M,
    M,
    M,
    I8,
    IZ,
    PFX,
    BAD,
    /* 30 */ M,
    M,
    M,
    M,
    I8,
    IZ,
    PFX,
    BAD,
    M,
    M,
    M,
    M,
    I8,
    IZ,
    PFX,
    BAD,
    /* 40 */ PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    PFX,
    /* 50 */ N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    /* 60 */ BAD,
    BAD,
    BAD /* 62: EVEX, in code */,
    M,
    PFX,
    PFX,
    PFX,
    PFX,
    IZ,
    MIZ,
    I8,
    MI8,
    N,
    N,
    N,
    N,
    /* 70 */ I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    /* 80 */ MI8,
    MIZ,
    BAD,
    MI8,
    M,
    M,
    M,
    M,
    M,
    M,
    M,
    M,
    M,
    M,
    M,
    M,
    /* 90 */ N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    N,
    BAD,
    N,
    N,
    N,
    N,
    N,
    /* A0 */ AO,
    AO,
    AO,
    AO,
    N,
    N,
    N,
    N,
    I8,
    IZ,
    N,
    N,
    N,
    N,
    N,
    N,
    /* B0 */ I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    IV,
    IV,
    IV,
    IV,
    IV,
    IV,
    IV,
    IV,
    /* C0 */ MI8,
    MI8,
    I16,
    N,
    BAD /* C4, C5: VEX, in code */,
    BAD,
    MI8,
    MIZ,
    I16 | I8,
    N,
    I16,
    N,
    N,
    I8,
    BAD,
    N,
    /* D0 */ M,
    M,
    M,
    M,
    BAD,
    BAD,
    BAD,
    N,
    M,
    M,
    M,
    M,
    M,
    M,
    M,
    M,
    /* E0 */ I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    I8,
    IZ,
    IZ,
    BAD,
    I8,
    N,
    N,
    N,
    N,
    /* F0 */ PFX,
    N,
    PFX,
    PFX,
    N,
    N,
    M,
    M,
    N,
    N,
    N,
    N,
    N,
    N,
    M,
    M,
};

/* 0F map: opcodes without a ModRM byte. */
static int map1_no_modrm(uint8_t op)
{
    if ((op >= 0x80 && op <= 0x8f) || (op >= 0xc8 && op <= 0xcf))
        return 1; /* jcc rel32, bswap */
    switch (op) {
    case 0x05: /* syscall */
    case 0x06: /* clts */
    case 0x07: /* sysret */
    case 0x08: /* invd */
    case 0x09: /* wbinvd */
    case 0x0b: /* ud2 */
    case 0x0e: /* femms */
    case 0x30: /* wrmsr */
    case 0x31: /* rdtsc */
    case 0x32: /* rdmsr */
    case 0x33: /* rdpmc */
    case 0x34: /* sysenter */
    case 0x35: /* sysexit */
    case 0x37: /* getsec */
    case 0x77: /* emms */
    case 0xa0: /* push fs */
    case 0xa1: /* pop fs */
    case 0xa2: /* cpuid */
    case 0xa8: /* push gs */
    case 0xa9: /* pop gs */
    case 0xaa: /* rsm */
        return 1;
    default:
        return 0;
    }
}

/* 0F map: opcodes that are invalid or not modelled (3DNow!, the reserved rows). */
static int map1_bad(uint8_t op)
{
    switch (op) {
    case 0x04:
    case 0x0a:
    case 0x0c:
    case 0x0f: /* 3DNow!: an imm8 opcode after the operands */
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x27:
    case 0x36:
    case 0x39:
    case 0x3b:
    case 0x3c:
    case 0x3d:
    case 0x3e:
    case 0x3f:
    case 0x7a:
    case 0x7b:
    case 0xa6:
    case 0xa7:
        return 1;
    default:
        return 0;
    }
}

/* 0F map (legacy or VEX/EVEX map 1): opcodes with an imm8. */
static int map1_imm8(uint8_t op)
{
    return (op >= 0x70 && op <= 0x73) || op == 0xa4 || op == 0xac || op == 0xba || op == 0xc2 ||
           op == 0xc4 || op == 0xc5 || op == 0xc6;
}

/* The ModRM byte at p[0] with its SIB and displacement: the length, or 0 past avail. Sets
 * *disp_at to the offset of a rip-relative disp32, or leaves it. */
static unsigned modrm_len(const uint8_t *p, size_t avail, int *ripdisp_at)
{
    if (avail < 1)
        return 0;
    unsigned mod = p[0] >> 6, rm = p[0] & 7, len = 1;
    if (mod == 3)
        return 1;
    if (rm == 4) {
        if (avail < 2)
            return 0;
        len = 2;
        if (mod == 0 && (p[1] & 7) == 5)
            len += 4; /* no base: disp32 */
    } else if (mod == 0 && rm == 5) {
        *ripdisp_at = 1; /* rip-relative */
        len += 4;
    }
    if (mod == 1)
        len += 1;
    else if (mod == 2)
        len += 4;
    return len <= avail ? len : 0;
}

static unsigned finish(struct x86_insn *out, size_t i, size_t avail)
{
    if (i > avail || i > 15)
        return 0;
    out->len = (uint8_t)i;
    return (unsigned)i;
}

/* A VEX (C4, C5) or EVEX (62) instruction whose first byte is code[i]. */
static unsigned decode_vex(const uint8_t *code, size_t avail, size_t i, struct x86_insn *out)
{
    uint8_t esc = code[i];
    unsigned map;
    size_t body; /* where the opcode is */
    if (esc == 0xc5) {
        map = 1;
        body = i + 2;
    } else if (esc == 0xc4) {
        if (i + 1 >= avail)
            return 0;
        map = code[i + 1] & 0x1f;
        body = i + 3;
    } else {
        if (i + 1 >= avail)
            return 0;
        map = code[i + 1] & 7;
        body = i + 4;
    }
    if (!(map == 1 || map == 2 || map == 3 || (esc == 0x62 && (map == 5 || map == 6))))
        return 0;
    if (body >= avail)
        return 0;
    out->vex = 1;
    out->map = (uint8_t)(map + 4);
    uint8_t op = code[body];
    out->opcode = op;
    size_t j = body + 1;
    if (map == 1 && op == 0x77 && esc != 0x62)
        return finish(out, j, avail); /* vzeroupper, vzeroall */
    int rd = -1;
    unsigned m = modrm_len(code + j, avail - j, &rd);
    if (!m)
        return 0;
    out->modrm_at = (int8_t)j;
    if (rd >= 0) {
        out->rel_at = (int8_t)(j + (size_t)rd);
        out->rel_size = 4;
        out->rip_rel = 1;
    }
    j += m;
    if (map == 3 || (map == 1 && map1_imm8(op)))
        j += 1;
    return finish(out, j, avail);
}

unsigned x86_decode(const uint8_t *code, size_t avail, struct x86_insn *out)
{
    struct x86_insn d = {.modrm_at = -1, .rel_at = -1};
    size_t i = 0;
    int opsize16 = 0, addr32 = 0, rexw = 0, lock_or_rep = 0;
    /* legacy prefixes, then at most one REX right before the opcode */
    while (i < avail && i < 14) {
        uint8_t b = code[i];
        if (b == 0x66)
            opsize16 = 1;
        else if (b == 0x67)
            addr32 = 1;
        else if (b == 0xf0 || b == 0xf2 || b == 0xf3)
            lock_or_rep = 1;
        else if (!(b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65))
            break;
        i++;
    }
    if (i < avail && (code[i] & 0xf0) == 0x40) {
        d.rex = code[i];
        rexw = (code[i] & 8) != 0;
        i++;
    }
    if (i >= avail)
        return 0;
    uint8_t op = code[i];
    if (op == 0xc4 || op == 0xc5 || op == 0x62) {
        if (d.rex || opsize16 || lock_or_rep)
            return 0; /* #UD */
        unsigned len = decode_vex(code, avail, i, &d);
        if (len)
            *out = d;
        return len;
    }
    i++;
    int rd = -1;
    if (op == 0x0f) {
        if (i >= avail)
            return 0;
        uint8_t op2 = code[i++];
        d.opcode = op2;
        if (op2 == 0x38 || op2 == 0x3a) {
            if (i >= avail)
                return 0;
            d.map = op2 == 0x38 ? 2 : 3;
            d.opcode = code[i++];
            unsigned m = modrm_len(code + i, avail - i, &rd);
            if (!m)
                return 0;
            d.modrm_at = (int8_t)i;
            if (rd >= 0)
                d.rel_at = (int8_t)(i + (size_t)rd);
            i += m + (op2 == 0x3a ? 1 : 0);
        } else {
            d.map = 1;
            if (map1_bad(op2))
                return 0;
            if (!map1_no_modrm(op2)) {
                unsigned m = modrm_len(code + i, avail - i, &rd);
                if (!m)
                    return 0;
                d.modrm_at = (int8_t)i;
                if (rd >= 0)
                    d.rel_at = (int8_t)(i + (size_t)rd);
                if (op2 == 0x1f && ((code[i] >> 3) & 7) == 0)
                    d.kind = X86_NOP;
                i += m;
            }
            if (op2 >= 0x80 && op2 <= 0x8f) {
                if (opsize16)
                    return 0; /* rel16 on AMD, rel32 on Intel */
                d.kind = X86_JCC;
                d.rel_at = (int8_t)i;
                i += 4;
            } else if (map1_imm8(op2)) {
                i += 1;
            } else if (op2 == 0x0b) {
                d.kind = X86_UD2;
            }
        }
        if (rd >= 0) {
            d.rip_rel = 1;
        }
        if (d.rel_at >= 0)
            d.rel_size = 4;
        unsigned len = finish(&d, i, avail);
        if (len)
            *out = d;
        return len;
    }
    d.opcode = op;
    uint8_t f = g_one[op];
    if (f & (BAD | PFX))
        return 0; /* a prefix where an opcode should be, or invalid in 64-bit mode */
    if (op == 0x90)
        d.kind = X86_NOP;
    else if (op == 0xcc)
        d.kind = X86_INT3;
    else if (op == 0xc3 || op == 0xc2)
        d.kind = X86_RET;
    if (f & M) {
        unsigned m = modrm_len(code + i, avail - i, &rd);
        if (!m)
            return 0;
        d.modrm_at = (int8_t)i;
        unsigned reg = (code[i] >> 3) & 7;
        if (op == 0xff && reg == 4)
            d.kind = X86_JMP; /* jmp r/m */
        if ((op == 0xf6 || op == 0xf7) && reg < 2)
            f |= op == 0xf6 ? I8 : IZ; /* test r/m, imm */
        if (op == 0x8f && reg != 0)
            return 0; /* XOP (AMD) */
        if (op == 0xc7 && code[i] == 0xf8) {
            if (opsize16)
                return 0;
            d.rel_at = (int8_t)(i + 1); /* xbegin rel32 */
        }
        if (rd >= 0) {
            d.rel_at = (int8_t)(i + (size_t)rd);
            d.rip_rel = 1;
        }
        i += m;
    }
    if ((op >= 0x70 && op <= 0x7f) || op == 0xeb || (op >= 0xe0 && op <= 0xe3)) {
        d.kind = op == 0xeb ? X86_JMP : op <= 0x7f ? X86_JCC : X86_LOOP;
        d.rel_at = (int8_t)i;
        d.rel_size = 1;
    } else if (op == 0xe8 || op == 0xe9) {
        if (opsize16)
            return 0; /* rel16 on AMD, rel32 on Intel */
        d.kind = op == 0xe8 ? X86_CALL : X86_JMP;
        d.rel_at = (int8_t)i;
    }
    if (d.rel_at >= 0 && !d.rel_size)
        d.rel_size = 4;
    if (f & I8)
        i += 1;
    if (f & I16)
        i += 2;
    if (f & IZ)
        i += opsize16 && !rexw ? 2 : 4;
    if (f & IV)
        i += rexw ? 8 : opsize16 ? 2 : 4;
    if (f & AO)
        i += addr32 ? 4 : 8;
    unsigned len = finish(&d, i, avail);
    if (len)
        *out = d;
    return len;
}

unsigned x86_insn_len(const uint8_t *code, size_t avail, enum x86_kind *kind)
{
    struct x86_insn d;
    unsigned len = x86_decode(code, avail, &d);
    *kind = len ? (enum x86_kind)d.kind : X86_OTHER;
    return len;
}
