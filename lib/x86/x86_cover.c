/* x86_cover.c: syscall sites that may be covered with the instruction before them (see
 * x86_cover.h). ELF facts from the System V gABI and its x86-64 supplement; the .eh_frame_hdr
 * and .eh_frame layouts from the Linux Standard Base (Core, "Exception Frames"). */
#include "x86/x86_cover.h"

#include <stdbool.h>

#include "x86/x86_len.h"

#define PT_LOAD         1u
#define PT_DYNAMIC      2u
#define PT_GNU_EH_FRAME 0x6474e550u
#define PF_X            1u
#define EM_X86_64       62u
#define PHDR_SIZE       56u
#define MAX_PHDRS       128u
#define MAX_LOAD        16u /* PT_LOAD segments taken (as lib/elf) */

struct file {
    const uint8_t *b;
    uint64_t size;
};

struct seg {
    uint64_t vaddr, off, filesz;
    uint32_t flags;
};

struct elf {
    struct file f;
    struct seg load[MAX_LOAD];
    unsigned nload;
    uint64_t ehf_vaddr, ehf_off, ehf_size; /* PT_GNU_EH_FRAME, size 0 when there is none */
    uint64_t dyn_off, dyn_size;            /* PT_DYNAMIC, size 0 when there is none */
};

/* n (1-8) bytes at off, little-endian, into *v: false when they are not all in the file */
static int get(const struct file *f, uint64_t off, unsigned n, uint64_t *v)
{
    if (off > f->size || f->size - off < n)
        return 0;
    uint64_t r = 0;
    for (unsigned i = 0; i < n; i++)
        r |= (uint64_t)f->b[off + i] << (8 * i);
    *v = r;
    return 1;
}

static int parse_elf(const uint8_t *file, size_t size, struct elf *e)
{
    e->f = (struct file){file, size};
    e->nload = 0;
    e->ehf_size = 0;
    e->dyn_size = 0;
    uint64_t machine, phoff, phentsize, phnum;
    if (size < 64 || file[0] != 0x7f || file[1] != 'E' || file[2] != 'L' || file[3] != 'F' ||
        file[4] != 2 || file[5] != 1)
        return 0;
    if (!get(&e->f, 18, 2, &machine) || machine != EM_X86_64 || !get(&e->f, 32, 8, &phoff) ||
        !get(&e->f, 54, 2, &phentsize) || !get(&e->f, 56, 2, &phnum) || phentsize != PHDR_SIZE ||
        phnum > MAX_PHDRS)
        return 0;
    for (uint64_t i = 0; i < phnum; i++) {
        uint64_t at = phoff + i * PHDR_SIZE, type, flags, off, vaddr, filesz;
        if (phoff > size || !get(&e->f, at, 4, &type) || !get(&e->f, at + 4, 4, &flags) ||
            !get(&e->f, at + 8, 8, &off) || !get(&e->f, at + 16, 8, &vaddr) ||
            !get(&e->f, at + 32, 8, &filesz))
            return 0;
        if (off > size || size - off < filesz || vaddr + filesz < vaddr)
            return 0;
        if (type == PT_LOAD && e->nload == MAX_LOAD)
            return 0;
        if (type == PT_LOAD)
            e->load[e->nload++] = (struct seg){vaddr, off, filesz, (uint32_t)flags};
        else if (type == PT_DYNAMIC) {
            e->dyn_off = off;
            e->dyn_size = filesz;
        } else if (type == PT_GNU_EH_FRAME) {
            e->ehf_vaddr = vaddr;
            e->ehf_off = off;
            e->ehf_size = filesz;
        }
    }
    return 1;
}

/* The file offset of [va, va + len) when it lies in one PT_LOAD's file bytes (executable ones
 * only when exec), or -1 as ~0 */
static uint64_t va_to_off(const struct elf *e, uint64_t va, uint64_t len, int exec)
{
    for (unsigned i = 0; i < e->nload; i++) {
        const struct seg *s = &e->load[i];
        if (exec && !(s->flags & PF_X))
            continue;
        if (va >= s->vaddr && va - s->vaddr <= s->filesz && s->filesz - (va - s->vaddr) >= len)
            return s->off + (va - s->vaddr);
    }
    return ~0ull;
}

/* Whether [va, va + len) has a byte in an executable PT_LOAD's file bytes */
static bool touches_code(const struct elf *e, uint64_t va, uint64_t len)
{
    uint64_t end = va + len < va ? ~0ull : va + len;
    for (unsigned i = 0; i < e->nload; i++) {
        const struct seg *s = &e->load[i];
        if ((s->flags & PF_X) && va < s->vaddr + s->filesz && end > s->vaddr)
            return true;
    }
    return false;
}

/* The virtual address of file offset off in an executable PT_LOAD, or ~0 */
static uint64_t off_to_va(const struct elf *e, uint64_t off)
{
    for (unsigned i = 0; i < e->nload; i++) {
        const struct seg *s = &e->load[i];
        if ((s->flags & PF_X) && off >= s->off && off - s->off < s->filesz)
            return s->vaddr + (off - s->off);
    }
    return ~0ull;
}

/* Whether the one-byte-map (map 0) or 0F-map (map 1) opcode op with ModRM reg field r and mod
 * field mod is on x86_cover_movable's list. */
static bool movable_op(unsigned map, unsigned op, unsigned r, unsigned mod)
{
    if (map == 0 && op == 0x8d)
        return mod != 3; /* lea: an address computed, no memory read */
    if (mod != 3)
        return false; /* a memory operand: could fault, and the fault would name the stub */
    /* map 1: cmovcc, setcc, imul, movzx, movsx */
    if (map == 1)
        return (op >= 0x40 && op <= 0x4f) || (op >= 0x90 && op <= 0x9f) || op == 0xaf ||
               op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf;
    if (map != 0)
        return false;
    if (op < 0x40)
        return (op & 7) < 4; /* add or adc sbb and sub xor cmp, register forms */
    switch (op) {
    case 0x63: /* movsxd */
    case 0x69: /* imul imm32 */
    case 0x6b: /* imul imm8 */
    case 0x80: /* the ALU group with an immediate */
    case 0x81:
    case 0x83:
    case 0x84: /* test */
    case 0x85:
    case 0x86: /* xchg */
    case 0x87:
    case 0x88: /* mov */
    case 0x89:
    case 0x8a:
    case 0x8b:
        return true;
    case 0xc0: /* rol ror rcl rcr shl shr sar (not /6, an alias) */
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
        return r != 6;
    case 0xc6: /* mov imm */
    case 0xc7:
        return r == 0;
    case 0xf6: /* test imm, not, neg, mul, imul (not div and idiv: they fault on a zero) */
    case 0xf7:
        return r == 0 || (r >= 2 && r <= 5);
    case 0xfe: /* inc, dec (ff's other forms are calls, jumps and push) */
    case 0xff:
        return r <= 1;
    default:
        return false;
    }
}

unsigned x86_cover_movable(const uint8_t *p, size_t avail)
{
    struct x86_insn d;
    unsigned len = x86_decode(p, avail, &d);
    if (len < X86_COVER_LEN_MIN || len > X86_COVER_LEN_MAX || d.kind != X86_OTHER || d.vex ||
        d.rip_rel || d.rel_at >= 0 || d.modrm_at < 1 || d.map > 1)
        return 0;
    /* the opcode right before the ModRM byte (0F before it for map 1), and before that only
     * 66 and REX: lock, rep, segment and address-size prefixes are not taken */
    unsigned op_at = (unsigned)d.modrm_at - 1, pre_end = op_at - d.map;
    if (op_at < d.map || p[op_at] != d.opcode || (d.map && p[op_at - 1] != 0x0f))
        return 0;
    for (unsigned i = 0; i < pre_end; i++)
        if (p[i] != 0x66 && (p[i] & 0xf0) != 0x40)
            return 0;
    uint8_t modrm = p[d.modrm_at];
    return movable_op(d.map, d.opcode, (modrm >> 3) & 7, modrm >> 6) ? len : 0;
}

size_t x86_cover_find(const uint8_t *file, size_t size, struct x86_cover *out, size_t max)
{
    struct elf e;
    if (!parse_elf(file, size, &e))
        return 0;
    size_t n = 0;
    for (unsigned i = 0; i < e.nload; i++) {
        const struct seg *s = &e.load[i];
        if (!(s->flags & PF_X))
            continue;
        uint64_t end = s->off + s->filesz;
        for (uint64_t o = s->off; o + X86_COVER_LEN_MIN + 2 <= end; o++) {
            for (unsigned len = X86_COVER_LEN_MIN; len <= X86_COVER_LEN_MAX; len++) {
                if (o + len + 2 > end || file[o + len] != 0x0f || file[o + len + 1] != 0x05 ||
                    x86_cover_movable(file + o, len) != len)
                    continue;
                if (n < max)
                    out[n] = (struct x86_cover){o, 0, (uint8_t)len, 0};
                n++;
                break; /* the instruction at o has one length */
            }
        }
    }
    return n;
}

/* ---- .eh_frame_hdr and the FDEs it lists ---- */

static int uleb(const struct file *f, uint64_t *at, uint64_t end, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*at >= end || *at >= f->size)
            return 0;
        uint8_t b = f->b[(*at)++];
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/* The size of a pointer in encoding enc (its low nibble), or 0 when unsupported */
static unsigned enc_size(unsigned enc)
{
    switch (enc & 0x0f) {
    case 0x00: /* absptr */
    case 0x04: /* udata8 */
    case 0x0c: /* sdata8 */
        return 8;
    case 0x02: /* udata2 */
    case 0x0a: /* sdata2 */
        return 2;
    case 0x03: /* udata4 */
    case 0x0b: /* sdata4 */
        return 4;
    default:
        return 0;
    }
}

/* The pointer encoding the CIE at file offset cie gives its FDEs ('R'; absptr without), or -1 */
static int cie_fde_enc(const struct file *f, uint64_t cie)
{
    uint64_t clen, id, ver, v;
    if (!get(f, cie, 4, &clen) || clen < 5 || clen >= 0xfffffff0u || !get(f, cie + 4, 4, &id) ||
        id != 0 || !get(f, cie + 8, 1, &ver) || (ver != 1 && ver != 3))
        return -1; /* not a CIE (an FDE's pointer may name another FDE), or a version unknown */
    uint64_t cend = cie + 4 + clen, at = cie + 9;
    char aug[8];
    unsigned na = 0;
    for (;;) {
        if (at >= cend || at >= f->size || na == sizeof(aug))
            return -1;
        aug[na] = (char)f->b[at++];
        if (!aug[na])
            break;
        na++;
    }
    if (!uleb(f, &at, cend, &v) || !uleb(f, &at, cend, &v)) /* code, data alignment */
        return -1;
    if (ver == 1)
        at++; /* the return address register, one byte */
    else if (!uleb(f, &at, cend, &v))
        return -1;
    int enc = 0; /* absptr */
    if (na && aug[0] != 'z')
        return -1; /* an augmentation whose data cannot be skipped */
    if (na && !uleb(f, &at, cend, &v))
        return -1;
    for (unsigned i = 1; i < na; i++) {
        uint64_t b;
        if (at >= cend || !get(f, at, 1, &b))
            return -1;
        switch (aug[i]) {
        case 'R':
            enc = (int)b;
            at++;
            break;
        case 'L':
            at++;
            break;
        case 'P':
            if (!enc_size((unsigned)b))
                return -1;
            at += 1 + enc_size((unsigned)b);
            break;
        case 'S':
        case 'B':
            break;
        default:
            return -1;
        }
    }
    return enc;
}

/* A pointer in encoding enc at file offset off (virtual address va): absolute or relative to
 * va (pcrel); other applications (datarel, textrel, ...) are refused. */
static int read_ptr(const struct file *f, uint64_t off, uint64_t va, unsigned enc, uint64_t *out)
{
    unsigned sz = enc_size(enc);
    uint64_t v;
    /* 0x80 (indirect) would say where the pointer is, not what it is */
    if (!sz || (enc & 0x80) || !get(f, off, sz, &v))
        return 0;
    if ((enc & 0x08) && sz < 8) /* signed: extend */
        v = (uint64_t)((int64_t)(v << (64 - 8 * sz)) >> (64 - 8 * sz));
    switch (enc & 0x70) {
    case 0x00:
        break;
    case 0x10: /* pcrel */
        v += va;
        break;
    default:
        return 0;
    }
    *out = v;
    return 1;
}

/* Where .eh_frame is: from PT_GNU_EH_FRAME's pointer to it (a dynamic program's or library's),
 * or the section of that name (a static program has no PT_GNU_EH_FRAME). Its end: the section's,
 * or the end of the PT_LOAD that holds it (a zero length ends the records before that). */
static int find_eh_frame(const struct elf *e, uint64_t *va, uint64_t *end_va)
{
    const struct file *f = &e->f;
    uint64_t ver, enc;
    if (e->ehf_size >= 8 && get(f, e->ehf_off, 1, &ver) && ver == 1 &&
        get(f, e->ehf_off + 1, 1, &enc) &&
        read_ptr(f, e->ehf_off + 4, e->ehf_vaddr + 4, (unsigned)enc, va)) {
        for (unsigned i = 0; i < e->nload; i++) {
            const struct seg *s = &e->load[i];
            if (*va >= s->vaddr && *va - s->vaddr < s->filesz) {
                *end_va = s->vaddr + s->filesz;
                return 1;
            }
        }
        return 0;
    }
    uint64_t shoff, shentsize, shnum, shstrndx, stroff, strsize;
    if (!get(f, 40, 8, &shoff) || !get(f, 58, 2, &shentsize) || !get(f, 60, 2, &shnum) ||
        !get(f, 62, 2, &shstrndx) || shentsize != 64 || shstrndx >= shnum || shoff > f->size ||
        !get(f, shoff + shstrndx * 64 + 24, 8, &stroff) ||
        !get(f, shoff + shstrndx * 64 + 32, 8, &strsize) || stroff > f->size ||
        f->size - stroff < strsize)
        return 0;
    static const char want[] = ".eh_frame";
    for (uint64_t i = 0; i < shnum; i++) {
        uint64_t at = shoff + i * 64, name, addr, size;
        if (!get(f, at, 4, &name) || !get(f, at + 16, 8, &addr) || !get(f, at + 32, 8, &size))
            return 0;
        if (name >= strsize || strsize - name < sizeof(want))
            continue;
        unsigned k = 0;
        while (k < sizeof(want) && f->b[stroff + name + k] == (uint8_t)want[k])
            k++;
        if (k == sizeof(want)) {
            *va = addr;
            *end_va = addr + size;
            return addr + size >= addr;
        }
    }
    return 0;
}

/* ---- the sweep ---- */

/* per candidate, in x86_cover.ok until the end of x86_cover_check */
enum { SEEN_INSN = 1, SEEN_SYS = 2, IN_FN = 4, BAD = 8 };

#define SPAN_MAX (X86_COVER_LEN_MAX + 2u) /* the most bytes a candidate spans */

/* The bytes candidate k spans: the instruction and the syscall */
static uint64_t span(const struct x86_cover *k)
{
    return k->len + 2u;
}

/* The index of the last of the n candidates (sorted by address) whose address is <= a, or -1 */
static long last_at_or_below(const struct x86_cover *c, size_t n, uint64_t a)
{
    long lo = 0, hi = (long)n - 1, r = -1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (c[mid].va <= a) {
            r = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return r;
}

/* Refuses every candidate that t lies inside, past its first byte: a jump target, a symbol or a
 * function's start there is a way in that the jmp would cut. */
static void mark_inside(struct x86_cover *c, size_t n, uint64_t t)
{
    for (long k = last_at_or_below(c, n, t); k >= 0 && c[k].va + SPAN_MAX > t; k--)
        if (t > c[k].va && t < c[k].va + span(&c[k]))
            c[k].ok |= BAD;
}

/* Marks what the instruction [a, a + len) says of the candidates it overlaps: their instruction
 * or their syscall when it starts where they do and has their length, BAD otherwise (some
 * decoding sees other boundaries in those bytes: overlapping functions, or data taken for
 * code). */
static void mark_overlap(struct x86_cover *c, size_t n, uint64_t a, unsigned len)
{
    for (long k = last_at_or_below(c, n, a + len - 1); k >= 0 && c[k].va + SPAN_MAX > a; k--) {
        if (c[k].va + span(&c[k]) <= a)
            continue; /* ends before it */
        if (a == c[k].va && len == c[k].len)
            c[k].ok |= SEEN_INSN;
        else if (a == c[k].va + c[k].len && len == 2)
            c[k].ok |= SEEN_SYS;
        else
            c[k].ok |= BAD;
    }
}

/* Decodes the function [start, start + range) at file offset code: marks the candidates'
 * boundaries and the ones a jump lands inside. 0, or -1 when an instruction does not decode. */
static int sweep(const struct file *f, uint64_t code, uint64_t start, uint64_t range,
                 struct x86_cover *c, size_t n)
{
    long lo = start ? last_at_or_below(c, n, start - 1) + 1 : 0, hi = lo;
    while ((size_t)hi < n && c[hi].va < start + range)
        hi++;
    for (long i = lo; i < hi; i++)
        if (start + range - c[i].va >= span(&c[i]))
            c[i].ok |= IN_FN; /* both instructions in this function, not cut by its end */
    /* a function that begins inside a candidate: its first byte is an address other code may
     * call or jump to through a pointer, which no sweep sees */
    mark_inside(c, n, start);
    for (uint64_t a = start; a < start + range;) {
        struct x86_insn d;
        const uint8_t *p = f->b + code + (a - start);
        unsigned len = x86_decode(p, start + range - a, &d);
        if (!len)
            return -1;
        mark_overlap(c, n, a, len);
        /* an indirect jump (a register, any memory operand, rip-relative included, a far
         * jump FF /5): a table or a pointer may name any address */
        bool indirect =
            (d.kind == X86_JMP && (d.rel_at < 0 || d.rip_rel)) ||
            (d.map == 0 && d.opcode == 0xff && d.modrm_at >= 0 && ((p[d.modrm_at] >> 3) & 7) == 5);
        if (indirect) {
            for (long k = lo; k < hi; k++)
                c[k].ok |= BAD;
        } else if (d.rel_at >= 0) {
            /* a branch target: jcc, jmp, call, loop, and xbegin's abort address; or an address
             * taken relative to rip (lea 1f(%rip), %rcx): kept as a pointer, it may be jumped
             * to, or become a signal frame's rip, where no sweep sees a jump (both are relative
             * to the next instruction) */
            const uint8_t *r = p + d.rel_at;
            int64_t rel = d.rel_size == 1 ? (int8_t)r[0]
                                          : (int32_t)((uint32_t)r[0] | (uint32_t)r[1] << 8 |
                                                      (uint32_t)r[2] << 16 | (uint32_t)r[3] << 24);
            mark_inside(c, n, a + len + (uint64_t)rel);
        }
        a += len;
    }
    return 0;
}

/* Refuses the candidates that a symbol of the file's symbol tables (.symtab, .dynsym: found
 * through the section headers, which a stripped file may lack) names a byte inside: an entry
 * point in the middle of a function (hand-written assembly's global labels) is an address other
 * files may jump or call to. Tables that do not fit the file are passed over. */
static void mark_symbols(const struct file *f, struct x86_cover *c, size_t n)
{
    uint64_t shoff, shentsize, shnum;
    if (!get(f, 40, 8, &shoff) || !get(f, 58, 2, &shentsize) || !get(f, 60, 2, &shnum) ||
        shentsize != 64 || shoff > f->size)
        return;
    for (uint64_t i = 0; i < shnum; i++) {
        uint64_t at = shoff + i * 64, type, off, size, entsize;
        if (!get(f, at + 4, 4, &type) || !get(f, at + 24, 8, &off) || !get(f, at + 32, 8, &size) ||
            !get(f, at + 56, 8, &entsize))
            return;
        if ((type != 2 && type != 11) || entsize != 24 || off > f->size || f->size - off < size)
            continue; /* not SHT_SYMTAB or SHT_DYNSYM, or not in the file */
        for (uint64_t s = off; size - (s - off) >= 24; s += 24) {
            uint64_t info, shndx, value;
            if (!get(f, s + 4, 1, &info) || !get(f, s + 6, 2, &shndx) || !get(f, s + 8, 8, &value))
                return;
            if (shndx == 0 || (info & 0xf) == 3 || (info & 0xf) == 4)
                continue; /* undefined, STT_SECTION, STT_FILE */
            mark_inside(c, n, value);
        }
    }
}

/* Refuses the candidates that an address the dynamic loader writes into data names a byte
 * inside: R_X86_64_RELATIVE relocations (DT_RELA: the address is the addend) and DT_RELR's
 * packed ones (the address is the word at the place relocated), found through PT_DYNAMIC. A
 * position-independent file's pointers to code (`.quad label` in a table) are these; a static
 * program that is not position-independent has no relocations, and its pointers are not seen.
 * Tables that do not fit the file are passed over. */
static void mark_relocs(const struct elf *e, struct x86_cover *c, size_t n)
{
    const struct file *f = &e->f;
    uint64_t rela = 0, relasz = 0, relr = 0, relrsz = 0, tag, val;
    for (uint64_t at = e->dyn_off; e->dyn_size - (at - e->dyn_off) >= 16; at += 16) {
        if (!get(f, at, 8, &tag) || !get(f, at + 8, 8, &val) || tag == 0)
            break; /* DT_NULL ends the table */
        if (tag == 7)
            rela = val; /* DT_RELA */
        else if (tag == 8)
            relasz = val; /* DT_RELASZ */
        else if (tag == 36)
            relr = val; /* DT_RELR */
        else if (tag == 35)
            relrsz = val; /* DT_RELRSZ */
    }
    uint64_t off = relasz ? va_to_off(e, rela, relasz, 0) : ~0ull;
    for (uint64_t i = 0; off != ~0ull && i + 24 <= relasz; i += 24) {
        uint64_t info, addend;
        if (!get(f, off + i + 8, 8, &info) || !get(f, off + i + 16, 8, &addend))
            break;
        if ((info & 0xffffffffu) == 8) /* R_X86_64_RELATIVE */
            mark_inside(c, n, addend);
    }
    /* DT_RELR: an even word is a place (the next one follows it); an odd one a bitmap of the
     * 63 places after the last, one bit each */
    off = relrsz ? va_to_off(e, relr, relrsz, 0) : ~0ull;
    uint64_t where = 0, word;
    for (uint64_t i = 0; off != ~0ull && i + 8 <= relrsz; i += 8) {
        if (!get(f, off + i, 8, &word))
            break;
        uint64_t places[63], np = 0;
        if (!(word & 1)) {
            places[np++] = word;
            where = word + 8;
        } else {
            for (unsigned b = 1; b < 64; b++)
                if (word >> b & 1)
                    places[np++] = where + 8 * (b - 1);
            where += 8 * 63;
        }
        for (uint64_t k = 0; k < np; k++) {
            uint64_t poff = va_to_off(e, places[k], 8, 0), value;
            if (poff != ~0ull && get(f, poff, 8, &value))
                mark_inside(c, n, value);
        }
    }
}

int x86_cover_check(const uint8_t *file, size_t size, struct x86_cover *c, size_t n)
{
    struct elf e;
    for (size_t i = 0; i < n; i++)
        c[i].ok = 0;
    if (!n)
        return 0;
    if (n > X86_COVER_MAX || !parse_elf(file, size, &e))
        return -1;
    for (size_t i = 0; i < n; i++) {
        c[i].va = off_to_va(&e, c[i].off);
        if (c[i].va == ~0ull || c[i].len < X86_COVER_LEN_MIN || c[i].len > X86_COVER_LEN_MAX ||
            off_to_va(&e, c[i].off + span(&c[i]) - 1) != c[i].va + span(&c[i]) - 1 ||
            (i && (c[i].va <= c[i - 1].va || c[i].off <= c[i - 1].off)))
            goto incomplete; /* not in code, or not sorted (segments that overlap or go
                              * backwards) */
    }
    const struct file *f = &e.f;
    uint64_t va0, end_va, budget = 0; /* bytes the sweeps may decode: twice the code */
    for (unsigned i = 0; i < e.nload; i++)
        if (e.load[i].flags & PF_X)
            budget += 2 * e.load[i].filesz;
    if (!find_eh_frame(&e, &va0, &end_va))
        return -1;
    /* the records: a CIE (id 0) or an FDE (id: the distance back to its CIE), each with a
     * 32-bit length; a zero length ends them */
    for (uint64_t rva = va0; rva + 8 <= end_va;) {
        uint64_t off = va_to_off(&e, rva, 8, 0), len, id;
        if (off == ~0ull || !get(f, off, 4, &len) || len >= 0xfffffff0u)
            goto incomplete;
        if (len == 0)
            break;
        if (len < 4 || end_va - rva - 4 < len || !get(f, off + 4, 4, &id))
            goto incomplete;
        uint64_t next = rva + 4 + len;
        if (id == 0) {
            rva = next;
            continue;
        }
        uint64_t cie_va = rva + 4 - id, start, range;
        uint64_t cie = cie_va < va0 ? ~0ull : va_to_off(&e, cie_va, 9, 0);
        int enc = cie == ~0ull ? -1 : cie_fde_enc(f, cie);
        if (enc < 0 || len < 4 + 2 * (uint64_t)enc_size((unsigned)enc) ||
            !read_ptr(f, off + 8, rva + 8, (unsigned)enc, &start) ||
            !read_ptr(f, off + 8 + enc_size((unsigned)enc), 0, (unsigned)enc & 0x0f, &range))
            goto incomplete;
        rva = next;
        if (!range)
            continue;
        uint64_t code = va_to_off(&e, start, range, 1);
        if (code == ~0ull) {
            if (touches_code(&e, start, range))
                goto incomplete; /* code partly outside one segment's bytes: not decoded */
            continue;            /* not in the file's code: nothing there to decode */
        }
        /* functions that overlap could make the sweep quadratic (the kernel lock is held) */
        if (range > budget)
            goto incomplete;
        budget -= range;
        if (sweep(f, code, start, range, c, n))
            goto incomplete;
    }
    mark_symbols(f, c, n);
    mark_relocs(&e, c, n);
    for (size_t i = 0; i < n; i++)
        c[i].ok = c[i].ok == (SEEN_INSN | SEEN_SYS | IN_FN);
    return 0;
incomplete:
    for (size_t i = 0; i < n; i++)
        c[i].ok = 0;
    return -1;
}
