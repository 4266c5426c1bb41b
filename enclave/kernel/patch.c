/* patch.c: syscall sites rewritten so the application enters the kernel without a trap.
 *
 * On our KVM a `syscall` costs two traps to the hypervisor (into the CPL0 trampoline, and the
 * iretq back to the kernel at CPL3), 50-85 µs. The kernel and the application share CPL3 and one
 * address space, so a plain jump would do. The first time a site traps, the kernel looks at it
 * and rewrites it in one of three ways; each way the site then jumps to a stub (in a stub area
 * within a rel32 jump of the site: one next to the executable, set up by patch_init, and more
 * near a shared library's code as its sites trap) that saves the return address and the user
 * stack pointer in the vCPU window, switches to the kernel stack and jumps to alc_entry_fast,
 * which builds the same struct regs a trap does and returns through the same path. The stub
 * may use r11 (a syscall clobbers it; alc_entry_fast gives it Linux's value, the flags) to hold
 * a return address anywhere in the address space.
 *
 * 1. A 5- or 6-byte instruction right before the `syscall` that the stub can run in its place:
 *    `mov $imm32, %r32` (b8+r, or 41 b8+r for r8d-r15d) whose register holds that value at the
 *    trap (what glibc emits for almost every wrapper, `mov $nr, %eax`, and for arguments such
 *    as `mov $AT_FDCWD, %edi` before openat), or `mov %r11, 8(%rsp)` (4c 89 5c 24 08: the last
 *    instruction of musl's __syscall_cp_asm, the way in of every cancellable call, read and
 *    write included, which has no padding near). The instruction becomes a `jmp` to a stub that
 *    runs it, then enters the kernel and returns after the `syscall` (of a 6-byte one, the
 *    last byte stays: nothing can jump into the middle of an instruction). None of these
 *    depends on where it runs, and the stub uses r11 only after it. The `syscall` itself
 *    stays, so code that jumps straight to it still works (and may be patched by 2), and a
 *    restart (which backs up onto the `syscall`) traps once. Only when the byte before the
 *    instruction cannot be a prefix that would change its meaning; the register's value is
 *    the evidence that the bytes are that instruction and not the tail of a longer one.
 *
 * 2. Any other `syscall` (the number loaded from a register or memory, `xor %eax,%eax` for
 *    read, musl's generic paths, glibc's syscall()): the 2-byte `syscall` becomes a 2-byte
 *    `jmp rel8` to 5 bytes of dead padding nearby, which become a `jmp rel32` to the site's
 *    stub; the stub takes the number from rax as the `syscall` would. Nothing else changes:
 *    no instruction moves, the return address is the one after the `syscall` (so rcx, a restart
 *    that backs up two bytes, a signal frame or a branch to the next instruction all see what
 *    they would natively), and a branch to the `syscall` itself (a retry loop) reaches the jmp.
 *    The padding is found by decoding forward from the instruction after the `syscall` (a known
 *    boundary: the CPU just executed the `syscall` before it) with lib/x86's length decoder: a
 *    run of NOP/INT3 instructions right after an unconditional ret/jmp/ud2 (so nothing falls
 *    into it), at least 5 bytes long, and ending at a 16-byte boundary (what an assembler's
 *    alignment before the next function or label looks like; a label is never inside it). A
 *    jmp this file wrote over a `syscall` is not taken as such an end: the code after it runs.
 *    Padding that already holds a slot is used for the next one.
 *
 * 3. An instruction of 3 to 7 bytes that runs the same anywhere (registers and immediates only,
 *    lea, no branch: lib/x86's x86_cover_movable), then the `syscall`, with no padding in
 *    reach: glibc's futex calls in its lock, condition-variable and barrier code, `mov %r8d,
 *    %eax; syscall` and `xor $0x80, %sil; syscall`. One `jmp rel32` over the first five bytes,
 *    to a stub that runs the instruction; the bytes after the jmp up to the end of the
 *    `syscall` (of the instruction, from 5 bytes on) become int3, never run. This overwrites
 *    the `syscall` (or the instruction's tail), so it is done only
 *    - in an image file's code whose unwind tables show that no jump lands inside the two
 *      instructions and that the bytes are those instructions (lib/x86/x86_cover.c decodes
 *      every function the file's .eh_frame lists, once per file);
 *    - when no other thread of the address space is running (one could be between the two
 *      instructions). Otherwise in three steps, as Linux rewrites its own running code
 *      (text_poke_bp): an int3 over the instruction's first byte, so any thread that reaches
 *      it traps and is sent to the stub (patch_breakpoint); then, once every vCPU that was
 *      running a thread of the process has entered the kernel since, or runs none of its
 *      threads any more (no thread can still be between the two instructions), the rest of
 *      the jmp behind the int3, and after a second such round its first byte
 *      (patch_cover_finish, at later traps);
 *    - and a thread that resumes at the `syscall`'s address afterwards (a restart backs up onto
 *      it; a signal frame or a preempted thread may hold it) is moved to the stub, past the
 *      instruction (patch_fix_resume, on every way out of the kernel): it enters the kernel with
 *      its registers as they are, as the `syscall` would (the instruction, `xor` say, must not
 *      run twice).
 *
 * Code is patched where it is an ordinary program's or library's code: a private mapping that is
 * executable and not writable (the executable's segments, its interpreter's, the libraries the
 * interpreter maps; not code a JIT keeps writable, not a stub area). Bytes are written
 * so that no instruction is ever seen half written: a 5-byte jmp's displacement before its
 * opcode (the opcode byte is one store), the 2-byte jmp as one 16-bit store that does not
 * cross a cache line (a site at the last byte of a line stays on the trap path). Once the
 * application has several threads, another vCPU may be executing the very bytes: a 5-byte jmp
 * is then written only as one aligned 8-byte store (way 1 is skipped where it cannot be). Every
 * thread in the kernel returns to the byte after its `syscall`, which no way rewrites, and
 * patching happens under the kernel lock. A thread the monitor preempts inside a stub is let
 * through to the kernel first (sched.c, preempt_dispatch): the stub has written this vCPU's
 * window.
 *
 * With --log-level debug each site is logged once: patched, or why not, with its bytes; the
 * exit or exit_group trap logs the totals. --no-syscall-patch turns all this off.
 */
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "patch.h"
#include "process.h"
#include "scheduler.h"
#include "vfs.h"
#include "x86/x86_len.h"

#define STUB_SIZE       48 /* the longest: the instruction of way 3 (7 bytes) and 41 more */
#define STUB_AREA       (64 * 1024)
#define REL32_REACH     0x7fff0000ll /* what a rel32 jump reaches, with a margin */
#define SCAN            160          /* bytes decoded after a syscall while looking for padding */
#define NR_RT_SIGRETURN 15
#define NR_EXIT         60
#define NR_EXIT_GROUP   231

extern char alc_entry_fast[];
/* the stubs jump through this (a 32-bit absolute address in the kernel image) */
static const uint64_t g_fast_entry = (uint64_t)alc_entry_fast;

static uint64_t g_traps, g_patched_imm, g_patched_rel8, g_refused;
uint64_t g_patched_cover;

void patch_free(struct mm *mm)
{
    kfree(mm->patch);
    mm->patch = NULL;
}

int patch_copy(const struct mm *from, struct mm *to)
{
    if (!from->patch)
        return 0;
    to->patch = kmalloc(sizeof(*to->patch));
    if (!to->patch)
        return -ENOMEM;
    memcpy(to->patch, from->patch, sizeof(*to->patch));
    return 0;
}

static uint32_t site_hash(uint64_t addr)
{
    return (uint32_t)((addr * 0x9e3779b97f4a7c15ull) >> 54) & (NSITES - 1);
}

/* Empties entry i of the site table, moving back the entries after it that probing would no
 * longer find (linear probing's deletion: no tombstones, so a table never fills with them). */
static void site_delete(struct patch_state *st, uint32_t i)
{
    uint32_t j = i;
    for (uint32_t k = 1; k < NSITES; k++) { /* a full table has no empty entry to end on */
        j = (j + 1) & (NSITES - 1);
        if (!st->sites[j].addr)
            break;
        uint32_t home = site_hash(st->sites[j].addr);
        /* j stays when its home is cyclically in (i, j]: probing from there still reaches it */
        if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
            continue;
        st->sites[i] = st->sites[j];
        i = j;
    }
    st->sites[i].addr = 0;
    st->sites[i].state = 0;
}

/* The bytes a site's record speaks of, from its syscall at x: way 3's instruction and the
 * syscall; way 1's instruction (5 or 6 bytes) and the syscall; else the syscall alone (way 2's
 * jmp rel8, a refusal). */
static uint64_t site_first_byte(uint64_t x, uint32_t state)
{
    if (state & (SITE_PATCHED_COVER | SITE_COVER_ARMING))
        return x - SITE_COVER_LEN(state);
    return state & SITE_PATCHED_IMM ? x - 6 : x;
}

void patch_unmapped(struct mm *mm, uint64_t start, uint64_t end)
{
    struct patch_state *st = mm->patch;
    /* a stub area the program unmapped (it is in its address space, if not of its making) gets
     * no more stubs; the jmps into it are broken, as unmapping any code the program runs breaks
     * it. Its range stays the patcher's while a part of it is mapped (a thread preempted in one
     * of its stubs must still be let through to the kernel), trimmed at the ends. */
    for (uint32_t i = 0; i < st->nareas;) {
        struct stub_area *a = &st->areas[i];
        if (a->start >= start && a->end <= end) {
            *a = st->areas[--st->nareas];
            continue;
        }
        if (a->start < end && a->end > start) {
            if (start <= a->start)
                a->start = end;
            else if (end >= a->end)
                a->end = start;
            a->next = a->end;
        }
        i++;
    }
    patch_cover_unmapped(st, start, end); /* armed sites */
    /* the sites whose bytes meet the range; an entry another moves into is looked at again */
    for (uint32_t i = 0; i < NSITES;) {
        uint64_t x = st->sites[i].addr;
        uint32_t s = st->sites[i].state;
        if (!x || x + 2 <= start || site_first_byte(x, s) >= end) {
            i++;
            continue;
        }
        if (s & SITE_PATCHED_COVER)
            st->ncover--;
        site_delete(st, i);
    }
}

/* The entry for addr, or the empty one where it would go, or NULL when the table is full. */
uint32_t *patch_site_state(uint64_t addr, bool add)
{
    struct patch_state *st = ps();
    uint32_t h = site_hash(addr);
    for (uint32_t k = 0; k < NSITES; k++, h = (h + 1) & (NSITES - 1)) {
        if (st->sites[h].addr == addr)
            return &st->sites[h].state;
        if (!st->sites[h].addr) {
            if (!add)
                return NULL;
            st->sites[h].addr = addr;
            return &st->sites[h].state;
        }
    }
    return NULL;
}

/* Code that may be patched (see the top of the file). */
bool patch_patchable(const struct vma *v)
{
    uint32_t kind = vma_kind(v);
    return (v->prot & PROT_EXEC) && !(v->prot & PROT_WRITE) &&
           (kind == VMA_EXE || kind == VMA_ANON);
}

/* Another thread may run the same code at the same time. */
static bool shared_code(void)
{
    return current_process()->nthreads > 1 || mm_current()->users > 1;
}

/* A rel32 jump between a and b reaches. */
static bool in_reach(uint64_t a, uint64_t b)
{
    int64_t d = (int64_t)(a - b);
    return d > -REL32_REACH && d < REL32_REACH;
}

/* A new stub area within a rel32 jump of [lo, hi) (just below lo when that is free, as
 * mappings go top-down), or false when there is no room in reach or no slot for it. */
static bool area_add(struct patch_state *st, uint64_t lo, uint64_t hi)
{
    if (st->nareas == MAX_AREAS)
        return false;
    uint64_t at = PAGE_DOWN(lo) - STUB_AREA;
    if (PAGE_DOWN(lo) < MM_USER_START + STUB_AREA ||
        mm_map_at(at, STUB_AREA, PROT_READ | PROT_EXEC, VMA_EXE)) {
        if (mm_map_anywhere(STUB_AREA, PAGE_SIZE, 0, PROT_READ | PROT_EXEC, VMA_EXE, &at))
            return false;
        if (!in_reach(at, hi) || !in_reach(at + STUB_AREA, lo)) {
            mm_unmap(at, at + STUB_AREA);
            return false;
        }
    }
    st->areas[st->nareas++] = (struct stub_area){at, at, at + STUB_AREA};
    return true;
}

/* Reserves the first stub area near the executable's code [lo, hi). */
void patch_init(uint64_t lo, uint64_t hi)
{
    if (g_boot->flags & ALC_BOOT_NO_SYSCALL_PATCH)
        return;
    struct patch_state *st = kzalloc(sizeof(*st));
    if (!st)
        return;
    patch_free(mm_current());
    mm_current()->patch = st;
    area_add(st, lo, hi); /* none in reach: one is tried again at each site */
}

static bool is_prefix(uint8_t b)
{
    return (b >= 0x40 && b <= 0x4f) || b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 ||
           b == 0xf3 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

/* The kernel's writable alias of the code at va (n bytes in one page): the application's
 * mapping of its code is not writable. */
uint8_t *patch_code_at(uint64_t va, size_t n)
{
    uint8_t *p = mm_alias(va, n);
    KASSERT(p); /* code that just ran, made the process's own (mm_make_private), or the stub
                 * area: mapped, not PROT_NONE, nothing to copy */
    return p;
}

static uint8_t *emit(uint8_t *p, const void *bytes, size_t n)
{
    memcpy(p, bytes, n);
    return p + n;
}

static uint8_t *emit32(uint8_t *p, uint64_t v)
{
    uint32_t w = (uint32_t)v;
    return emit(p, &w, 4);
}

/* A stub area with room for a stub that a jmp rel32 at from reaches (a new one if needed). */
static struct stub_area *area_for(uint64_t from)
{
    struct patch_state *st = ps();
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < st->nareas; i++) {
            struct stub_area *a = &st->areas[i];
            if (a->next + STUB_SIZE <= a->end && in_reach(a->start, from) && in_reach(a->end, from))
                return a;
        }
        const struct vma *v = vms_lookup(mm_space(), from);
        if (pass || !v || !area_add(st, v->start, v->end))
            break;
    }
    return NULL;
}

/* A stub that enters the kernel and returns to ret, reached by a jmp rel32 at from: the npre
 * bytes of the instruction pre first (way 1). Its address, or 0 when no stub area has room in
 * reach. */
uint64_t patch_make_stub(const uint8_t *pre, size_t npre, uint64_t ret, uint64_t from)
{
    struct stub_area *a = area_for(from);
    if (!a)
        return 0;
    /* still the area this file mapped? The program may have unmapped it or mapped something
     * over it (MAP_FIXED): then it is retired, and nothing is written there */
    const struct vma *sv = vms_lookup(mm_space(), a->next);
    if (!sv || vma_kind(sv) != VMA_EXE || (sv->kind & VMA_F_FILE) ||
        sv->prot != (PROT_READ | PROT_EXEC) || sv->end < a->next + STUB_SIZE) {
        a->next = a->end;
        return 0;
    }
    uint8_t stub[STUB_SIZE];
    uint8_t *p = stub;
    if (npre)
        p = emit(p, pre, npre); /* the instruction the jmp replaced */
    p = emit(p, "\x49\xbb", 2); /* movabs $ret, %r11 */
    p = emit(p, &ret, 8);
    p = emit(p, "\x4c\x89\x1c\x25", 4); /* mov %r11, fast_rip */
    p = emit32(p, ALC_CPU_VBASE + PERCPU_FAST_RIP);
    p = emit(p, "\x48\x89\x24\x25", 4); /* mov %rsp, user_rsp */
    p = emit32(p, ALC_CPU_VBASE + ALC_CPU_USER_RSP);
    p = emit(p, "\x48\x8b\x24\x25", 4); /* mov kstack_top, %rsp: the thread's own */
    p = emit32(p, ALC_CPU_VBASE + ALC_CPU_KSTACK);
    p = emit(p, "\xff\x24\x25", 3); /* jmp *g_fast_entry */
    p = emit32(p, (uint64_t)&g_fast_entry);
    while (p < stub + STUB_SIZE)
        *p++ = 0xcc;
    _Static_assert(X86_COVER_LEN_MAX + 10 + 8 + 8 + 8 + 7 <= STUB_SIZE, "the longest stub fits");
    uint64_t at = a->next;
    if (mm_write(at, stub, STUB_SIZE))
        return 0;
    a->next += STUB_SIZE;
    return at;
}

/* Writes `jmp rel32` to target at at, in dead padding: the displacement, then the opcode. */
void patch_write_jmp32_dead(uint64_t at, uint64_t target)
{
    int32_t rel = (int32_t)(target - (at + 5));
    uint8_t b[4];
    memcpy(b, &rel, 4);
    for (int i = 0; i < 4; i++) /* byte by byte: the five may span two pages */
        *patch_code_at(at + 1 + (uint64_t)i, 1) = b[i];
    __atomic_store_n(patch_code_at(at, 1), (uint8_t)0xe9, __ATOMIC_RELEASE);
}

/* Writes `jmp rel32` to target over the 5-byte instruction at at. With one thread as in
 * dead padding. With several, another vCPU may be executing these bytes, so the five must change in
 * one store: only when they lie in one aligned 8-byte word (false otherwise, and nothing is
 * written). */
static bool write_jmp32(uint64_t at, uint64_t target)
{
    int32_t rel = (int32_t)(target - (at + 5));
    if (shared_code()) {
        uint64_t word = at & ~7ull, off = at - word;
        if (off > 3)
            return false;
        uint64_t *w = (uint64_t *)patch_code_at(word, 8);
        uint64_t v = __atomic_load_n(w, __ATOMIC_RELAXED);
        uint8_t bytes[8];
        memcpy(bytes, &v, 8);
        bytes[off] = 0xe9;
        memcpy(bytes + off + 1, &rel, 4);
        memcpy(&v, bytes, 8);
        __atomic_store_n(w, v, __ATOMIC_RELEASE);
        return true;
    }
    patch_write_jmp32_dead(at, target);
    return true;
}

bool patch_stub_contains(uint64_t rip)
{
    struct patch_state *st = ps();
    for (uint32_t i = 0; st && i < st->nareas; i++)
        if (rip >= st->areas[i].start && rip < st->areas[i].end)
            return true;
    return false;
}

/* musl's __syscall_cp_asm: mov %r11, 8(%rsp), right before its syscall */
static const uint8_t MOV_R11_TO_STACK[5] = {0x4c, 0x89, 0x5c, 0x24, 0x08};

/* The value register reg (0-15, x86 numbering) held at the trap, when the syscall left it as the
 * program set it: not rcx or r11 (the syscall's), not rsp. */
static bool reg_at_trap(const struct regs *r, unsigned reg, uint64_t *v)
{
    const uint64_t *p;
    switch (reg) {
    case 0:
        p = &r->orig_rax;
        break;
    case 2:
        p = &r->rdx;
        break;
    case 3:
        p = &r->rbx;
        break;
    case 5:
        p = &r->rbp;
        break;
    case 6:
        p = &r->rsi;
        break;
    case 7:
        p = &r->rdi;
        break;
    case 8:
        p = &r->r8;
        break;
    case 9:
        p = &r->r9;
        break;
    case 10:
        p = &r->r10;
        break;
    case 12:
        p = &r->r12;
        break;
    case 13:
        p = &r->r13;
        break;
    case 14:
        p = &r->r14;
        break;
    case 15:
        p = &r->r15;
        break;
    default:
        return false;
    }
    *v = *p;
    return true;
}

/* Whether the 5 (b8+r imm32) or 6 (41 b8+r imm32) bytes at b are a mov whose register held its
 * immediate at the trap. Beyond eax (the syscall's number), only an immediate of 0x100 or more
 * counts (AT_FDCWD, say): a register holding 0 or 8 by chance is too likely. */
static bool mov_imm_holds(const struct regs *r, const uint8_t *b, size_t n)
{
    bool rex_b = n == 6;
    if (rex_b && b[0] != 0x41)
        return false;
    const uint8_t *op = b + rex_b;
    if (*op < 0xb8 || *op > 0xbf)
        return false;
    uint32_t imm;
    uint64_t val;
    memcpy(&imm, op + 1, 4);
    unsigned reg = (unsigned)(*op - 0xb8) + (rex_b ? 8 : 0);
    if (reg != 0 && imm < 0x100)
        return false;
    /* mov to a 32-bit register zero-extends: the register holds imm exactly */
    return reg_at_trap(r, reg, &val) && val == imm;
}

/* The length of the way-1 instruction that ends at x (see the top of the file), or 0. A 6-byte
 * reading that the 5-byte one also fits is ambiguous (was the 41 a REX prefix, or the end of the
 * instruction before?): neither is taken. */
static size_t displaceable(const struct regs *r, const struct vma *v, uint64_t x)
{
    const uint8_t *b5 = (const uint8_t *)(x - 5), *b6 = b5 - 1;
    if (x - 5 < v->start)
        return 0;
    bool fits5 = mov_imm_holds(r, b5, 5) || memcmp(b5, MOV_R11_TO_STACK, 5) == 0;
    bool fits6 = x - 6 >= v->start && mov_imm_holds(r, b6, 6);
    if (fits6 && !fits5 && !(x - 7 >= v->start && is_prefix(b6[-1])))
        return 6;
    if (fits5 && !fits6 && !(x - 6 >= v->start && is_prefix(b5[-1])))
        return 5;
    return 0;
}

/* Way 1: the instruction right before the syscall at x runs in the stub instead. */
static bool patch_mov_imm(const struct regs *r, const struct vma *v, uint64_t x)
{
    size_t n = displaceable(r, v, x);
    if (!n)
        return false;
    uint64_t at = x - n;
    uint8_t pre[6];
    memcpy(pre, (const uint8_t *)at, n);
    if (shared_code() && (at & 7) > 3)
        return false; /* see write_jmp32 */
    /* the code pages written become the process's own first (an image file's page is shared:
     * a copy needs a frame, and a patch must not fail half way) */
    if (mm_make_private(at & ~7ull, x + 2))
        return false;
    uint64_t stub = patch_make_stub(pre, n, x + 2, at);
    if (!stub)
        return false;
    return write_jmp32(at, stub);
}

/* Whether a run of padding from run that ends at at holds the slot for the syscall at x: 5
 * bytes, within a jmp rel8's reach, in the 16 bytes where the padding starts (no aligned address,
 * where a function or a label could begin, inside or at its start), the padding ending aligned. */
static bool slot_fits(uint64_t run, uint64_t at, uint64_t x)
{
    return run && at - run >= 5 && (at & 15) == 0 && run - (x + 2) <= 127 && (run & 15) &&
           (run | 15) + 1 >= run + 5;
}

/* Dead padding for a 5-byte slot within a jmp rel8 of the syscall at x, below hi: its address,
 * or 0 (and *why). *pad_end: the end of the padding instruction that the slot's last byte is
 * in (what follows the slot up to there must become int3 so the padding still decodes). */
static uint64_t find_padding(uint64_t x, uint64_t hi, uint64_t *pad_end, const char **why)
{
    uint64_t at = x + 2, end = MIN(hi, x + 2 + SCAN), run = 0;
    bool dead = false; /* the previous instruction does not fall through */
    *why = "no dead padding of 5 bytes within 127 bytes after it";
    while (at < end) {
        uint64_t sys = patch_cover_site_at(at);
        if (sys) {
            /* a way-3 site (a jmp, or an int3 while under way, then bytes that are not
             * instructions any more): its code goes on after the syscall */
            if (slot_fits(run, at, x))
                return run;
            run = 0;
            dead = false;
            at = sys + 2;
            continue;
        }
        struct x86_insn d;
        unsigned len = x86_decode((const uint8_t *)at, end - at, &d);
        if (!len) {
            *why = "an instruction after it that the length decoder does not know";
            return 0;
        }
        bool pad = d.kind == X86_NOP || d.kind == X86_INT3;
        if (pad && (dead || run)) {
            if (!run)
                run = at;
            if (at < run + 5)
                *pad_end = at + len;
        } else {
            if (slot_fits(run, at, x))
                return run;
            run = 0;
            dead = d.kind == X86_RET || d.kind == X86_JMP || d.kind == X86_UD2;
            if (d.kind == X86_JMP && len == 2) {
                /* a jmp this file wrote over a syscall returns to the byte after it */
                uint32_t *st = patch_site_state(at, false);
                if (st && (*st & SITE_PATCHED_REL8))
                    dead = false;
            }
        }
        if (at - (x + 2) > 127 && !run)
            break; /* any padding from here on is out of reach */
        at += len;
    }
    return 0;
}

/* Way 2: the syscall at x becomes a jmp rel8 to a slot in padding that jumps to the stub. */
static bool patch_rel8(const struct vma *v, uint64_t x, const char **why)
{
    if ((x & 63) == 63) {
        *why = "its two bytes straddle a cache line (one store could tear)";
        return false;
    }
    uint64_t pad_end = 0;
    uint64_t slot = find_padding(x, v->end, &pad_end, why);
    if (!slot)
        return false;
    if (mm_make_private(x, MAX(pad_end, slot + 5))) { /* as in patch_mov_imm */
        *why = "no memory for a copy of its code page";
        return false;
    }
    uint64_t stub = patch_make_stub(NULL, 0, x + 2, slot);
    if (!stub) {
        *why = "no stub area with room within a rel32 jump";
        return false;
    }
    for (uint64_t p = slot + 5; p < pad_end; p++)
        *(volatile uint8_t *)patch_code_at(p, 1) = 0xcc; /* the rest of a longer nop the slot cut */
    patch_write_jmp32_dead(slot, stub);                  /* padding: nothing executes it */
    uint16_t jmp = (uint16_t)(0xeb | (uint16_t)((slot - (x + 2)) & 0xff) << 8);
    __atomic_store_n((uint16_t *)patch_code_at(x, 2), jmp, __ATOMIC_RELEASE);
    return true;
}

extern uint64_t g_fast_syscalls; /* sys/dispatch.c */

static void log_totals(void)
{
    uint64_t all = g_traps + g_fast_syscalls;
    uint64_t bp = all ? g_traps * 10000 / all : 0; /* basis points */
    klog(ALC_LOG_DEBUG,
         "syscall patching: %lu syscalls, %lu trapped (%lu.%02lu%%); %lu sites patched (%lu by "
         "the instruction before, %lu through padding, %lu with the instruction before), %lu "
         "left on the trap path",
         all, g_traps, bp / 100, bp % 100, g_patched_imm + g_patched_rel8 + g_patched_cover,
         g_patched_imm, g_patched_rel8, g_patched_cover, g_refused);
}

/* Called on every trapped syscall (sys/dispatch.c), before it is handled. */
void patch_syscall_site(const struct regs *r)
{
    g_traps++;
    bool exiting = r->orig_rax == NR_EXIT || r->orig_rax == NR_EXIT_GROUP;
    if (exiting && g_boot->log_level >= ALC_LOG_DEBUG)
        log_totals();
    struct patch_state *state = ps();
    if (!state || r->rip < MM_USER_START + 2 || r->rip >= MM_USER_END)
        return;
    if (state->narming)
        patch_cover_finish();
    uint64_t x = r->rip - 2; /* the syscall instruction */
    const struct vma *found = vms_lookup(mm_space(), x);
    if (!found || !patch_patchable(found) || x < found->start || x + 2 > found->end ||
        patch_stub_contains(x))
        return;
    /* a copy: making a stub may map a stub area, which may move the mapping table */
    struct vma vcopy = *found;
    const struct vma *v = &vcopy;
    if ((v->kind & VMA_F_FILE) && v->file) {
        /* never read past the file's end (its pages there give SIGBUS) */
        uint64_t file_end = PAGE_UP(v->file->size);
        uint64_t end = file_end > v->off ? v->start + (file_end - v->off) : v->start;
        if (end < vcopy.end)
            vcopy.end = end;
        if (x + 2 > vcopy.end)
            return;
    }
    const uint8_t *b = (const uint8_t *)x;
    if (b[0] != 0x0f || b[1] != 0x05)
        return; /* not (any more) a syscall instruction */
    uint32_t *st = patch_site_state(x, true);
    if (exiting || !st)
        return; /* runs once: not worth a stub; or the table is full: a site patched without
                 * its record could be taken for dead code by find_padding */
    if (*st & SITE_COVER_ARMING)
        return; /* way 3 under way (a thread that had run the instruction before the int3 came):
                 * not refused, and no other way over the bytes its arming expects */
    /* each way below may map a stub area, and so unmap one out of reach (mm_unmap), which
     * deletes site records and may move others in the table: the entry is found again after */
    const char *why = NULL;
    if (!(*st & SITE_PATCHED_IMM) && patch_mov_imm(r, v, x)) {
        g_patched_imm++;
        if ((st = patch_site_state(x, true)))
            *st |= SITE_PATCHED_IMM;
        klog(ALC_LOG_DEBUG, "syscall site %#lx (syscall %lu) now enters without a trap", x,
             r->orig_rax);
        return;
    }
    if (*st & SITE_REFUSED)
        return; /* refused before: the same answer */
    if (patch_rel8(v, x, &why)) {
        g_patched_rel8++;
        if ((st = patch_site_state(x, true)))
            *st |= SITE_PATCHED_REL8;
        klog(ALC_LOG_DEBUG,
             "syscall site %#lx (syscall %lu, number in rax) now enters without a trap "
             "(through padding)",
             x, r->orig_rax);
        return;
    }
    uint32_t len = 0;
    /* never glibc's signal return, `mov $15, %rax; syscall` (way 3's 7 bytes): unwinders
     * (libgcc's, a debugger's) know a signal frame by those bytes */
    enum cover_result cover =
        r->orig_rax == NR_RT_SIGRETURN ? COVER_NO : patch_cover(v, x, &len, &why);
    if (!(st = patch_site_state(x, true)))
        return;
    if (cover == COVER_DONE) {
        g_patched_cover++;
        /* the length replaces any earlier one (or-ing two would send patch_fix_resume to the
         * wrong bytes) */
        *st = (*st & ~(15u << SITE_COVER_LEN_SHIFT)) | SITE_PATCHED_COVER |
              len << SITE_COVER_LEN_SHIFT;
        klog(ALC_LOG_DEBUG,
             "syscall site %#lx (syscall %lu) now enters without a trap (with the %u-byte "
             "instruction before it)",
             x, r->orig_rax, len);
        return;
    }
    if (cover == COVER_ARMED) {
        *st = (*st & ~(15u << SITE_COVER_LEN_SHIFT)) | SITE_COVER_ARMING |
              len << SITE_COVER_LEN_SHIFT;
        klog(ALC_LOG_DEBUG,
             "syscall site %#lx (syscall %lu): an int3 on the %u-byte instruction before it, "
             "covered once every vCPU running the process has passed through the kernel",
             x, r->orig_rax, len);
        return;
    }
    if (cover == COVER_LATER)
        return; /* another process shares the code (vfork), or too many under way: tried
                 * again at its next trap */
    g_refused++;
    *st |= SITE_REFUSED;
    const uint8_t *a = b - (x - 8 >= v->start ? 8 : 0);
    char bytes[3 * 24 + 4];
    size_t n = 0;
    for (const uint8_t *p = a; p < b + 12 && p < (const uint8_t *)v->end; p++)
        n += (size_t)ksnprintf(bytes + n, sizeof(bytes) - n, p == b ? "| %02x " : "%02x ", *p);
    klog(ALC_LOG_DEBUG, "syscall site %#lx (syscall %lu) stays on the trap path: %s (bytes %s)", x,
         r->orig_rax, why ? why : "?", bytes);
}
