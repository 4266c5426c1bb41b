/* patch_cover.c: way 3 of the syscall-site patcher (see the top of kernel/patch.c): an
 * instruction that runs the same anywhere and the syscall after it, covered by one jmp to a
 * stub that runs the instruction; where the image file's unwind tables show it safe
 * (lib/x86/x86_cover.c), and, while other vCPUs may run the code, in steps with an int3 first. */
#include "klib.h"
#include "patch.h"
#include "process.h"
#include "scheduler.h"
#include "vfs.h"

/* The syscall's address when a way-3 site (covered, or under way) starts at at, else 0. */
uint64_t patch_cover_site_at(uint64_t at)
{
    for (uint32_t len = X86_COVER_LEN_MIN; len <= X86_COVER_LEN_MAX; len++) {
        uint32_t *st = patch_site_state(at + len, false);
        if (st && (*st & (SITE_PATCHED_COVER | SITE_COVER_ARMING)) && SITE_COVER_LEN(*st) == len)
            return at + len;
    }
    return 0;
}

/* ---- way 3: the instruction before and the syscall under one jmp ---- */

/* What lib/x86/x86_cover.c found in an image file's code: scanned once, at the first site of
 * that file that needs it (about 15 ms for glibc's libc.so.6 at native speed), and kept for the
 * enclave's life (an image file never changes or goes): the pairs that may be covered. */
#define COVER_FILES 32
static struct cover_file {
    const struct inode *ino;
    struct cover_pair {
        uint64_t sys_off; /* the syscall's file offset; sorted */
        uint32_t len;     /* the instruction's length: it starts at sys_off - len */
    } * pairs;
    uint32_t n;
} g_cover[COVER_FILES];

static const struct cover_file *cover_scan(const struct inode *ino)
{
    for (unsigned i = 0; i < COVER_FILES; i++) {
        struct cover_file *cf = &g_cover[i];
        if (cf->ino == ino)
            return cf;
        if (cf->ino)
            continue;
        struct x86_cover *c = kmalloc(X86_COVER_MAX * sizeof(*c));
        if (!c)
            return NULL; /* no memory now: scanned again next time */
        size_t found = x86_cover_find(ino->data, ino->size, c, X86_COVER_MAX);
        size_t n = MIN(found, (size_t)X86_COVER_MAX), ok = 0;
        if (x86_cover_check(ino->data, ino->size, c, n))
            n = 0; /* no usable unwind table: nothing of this file is covered */
        for (size_t k = 0; k < n; k++)
            ok += c[k].ok;
        /* the accepted ones, in the order found (they do not overlap: sorted by syscall too) */
        struct cover_pair *pairs = ok ? kmalloc(ok * sizeof(*pairs)) : NULL;
        if (ok && !pairs) {
            kfree(c);
            return NULL;
        }
        for (size_t k = 0, j = 0; k < n; k++)
            if (c[k].ok)
                pairs[j++] = (struct cover_pair){c[k].off + c[k].len, c[k].len};
        kfree(c);
        klog(ALC_LOG_DEBUG,
             "syscall patching: a file of %lu bytes has %lu syscall sites after an instruction "
             "a stub can run, %lu of them safe to cover",
             ino->size, found, ok);
        *cf = (struct cover_file){ino, pairs, (uint32_t)ok};
        return cf;
    }
    return NULL; /* every slot taken */
}

/* The length of the instruction before the syscall at file offset sys_off of the image file ino
 * when the two may be covered, or 0. */
static uint32_t cover_len(const struct inode *ino, uint64_t sys_off)
{
    const struct cover_file *cf = cover_scan(ino);
    if (!cf)
        return 0;
    uint32_t lo = 0, hi = cf->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cf->pairs[mid].sys_off < sys_off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < cf->n && cf->pairs[lo].sys_off == sys_off ? cf->pairs[lo].len : 0;
}

/* The vCPUs that may be executing this address space's code at this moment: those running
 * another thread of its process (in the application, or on its way in or out of the kernel).
 * ~0 when another process shares the space (vfork): its threads are not followed. */
static uint64_t others_running(void)
{
    if (mm_current()->users > 1)
        return ~0ull;
    uint64_t cpus = 0;
    for (struct thread *t = current_process()->threads; t; t = t->proc_next)
        if (t != current() && t->state == T_RUNNING)
            cpus |= 1ull << t->cpu;
    return cpus;
}

/* Writes all but the first byte of the jmp of the way-3 site at at (n bytes, then the syscall)
 * to stub: its displacement, and what the jmp leaves of the instruction and, when the jmp cuts
 * it, the syscall become int3. */
static void cover_write_tail(uint64_t at, uint32_t n, uint64_t stub)
{
    int32_t rel = (int32_t)(stub - (at + 5));
    uint8_t d[4];
    memcpy(d, &rel, 4);
    for (unsigned i = 0; i < 4; i++) /* byte by byte: the five may span two pages */
        *(volatile uint8_t *)patch_code_at(at + 1 + i, 1) = d[i];
    uint64_t x = at + n;
    for (uint64_t p = at + 5; p < (n >= 5 ? x : x + 2); p++)
        *(volatile uint8_t *)patch_code_at(p, 1) = 0xcc;
}

/* The jmp's first byte, last (while a vCPU may still see an int3 there, patch_breakpoint takes
 * it). */
static void cover_write_first(uint64_t at)
{
    __atomic_store_n(patch_code_at(at, 1), (uint8_t)0xe9, __ATOMIC_RELEASE);
}

/* What is at an armed site now. ARMING_GONE: its code was unmapped, or other bytes are there
 * (the program mapped other code over it, or rewrote it): the arming is forgotten. ARMING_KEPT:
 * the int3 and the rest of what it replaced are still there, or cannot be read now (PROT_NONE),
 * but the mapping is not one the patcher writes (an mprotect made it writable, say, as a text
 * relocation does for a while): the int3 stays ours, so a #BP there is still taken to the stub,
 * and the jmp waits until the mapping is patchable again. ARMING_OURS: as armed. */
enum arming_now { ARMING_GONE, ARMING_KEPT, ARMING_OURS };
static enum arming_now arming_look(const struct arming *a)
{
    const struct vma *v = vms_lookup(mm_space(), a->at),
                     *v_end = vms_lookup(mm_space(), a->at + a->len + 1);
    if (!v || !v_end)
        return ARMING_GONE;
    /* the kernel reads the application's pages through its own mapping: a page it may not read
     * would end the process (exception.c) */
    const int readable = PROT_READ | PROT_EXEC;
    if (!(v->prot & readable) || !(v_end->prot & readable))
        return ARMING_KEPT;
    const uint8_t *b = (const uint8_t *)a->at;
    if (b[0] != 0xcc || memcmp(b + 1, a->orig + 1, a->len + 1) != 0)
        return ARMING_GONE;
    return patch_patchable(v) && patch_patchable(v_end) ? ARMING_OURS : ARMING_KEPT;
}

static void arming_drop(struct patch_state *st, unsigned i)
{
    uint32_t *s = patch_site_state(st->arming[i].at + st->arming[i].len, false);
    if (s)
        *s &= ~(uint32_t)SITE_COVER_ARMING;
    st->arming[i] = st->arming[--st->narming];
}

void patch_cover_unmapped(struct patch_state *st, uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < st->narming;) {
        const struct arming *a = &st->arming[i];
        if (a->at + a->len + 2 > start && a->at < end)
            arming_drop(st, i);
        else
            i++;
    }
}

/* Finishes the armed sites whose vCPUs have all entered the kernel since they were armed (or
 * run none of the process's threads now): no thread can still be between their two
 * instructions (one that was has run the syscall, or been stopped there and is moved on by
 * patch_fix_resume). Not every entry serializes the vCPU's instruction stream: one through a
 * stub (alc_entry_fast) and the jmp back (alc_return_to_user) execute no serializing
 * instruction, so this leans on x86 processors' snooping of code stores, as the Intel SDM's
 * cross-modifying rules (8.1.3) do not promise. */
void patch_cover_finish(void)
{
    struct patch_state *st = ps();
    uint64_t running = st && st->narming ? others_running() : 0;
    for (unsigned i = 0; st && i < st->narming;) {
        struct arming *a = &st->arming[i];
        enum arming_now now = arming_look(a);
        if (now == ARMING_GONE) {
            arming_drop(st, i); /* not ours any more: forgotten */
            continue;
        }
        /* a vCPU that runs no thread of the process now has left what it ran of it for the
         * kernel since (a thread leaves a vCPU only from the kernel, and comes back to the
         * application after the int3, under the lock): one that went idle is not waited for,
         * as its count may not move for a long time */
        bool all = now == ARMING_OURS;
        for (uint64_t m = a->cpus & running; m && all; m &= m - 1) {
            unsigned c = (unsigned)__builtin_ctzll(m);
            all = __atomic_load_n(&g_kernel_entries[c], __ATOMIC_ACQUIRE) != a->entries[c];
        }
        if (!all) {
            i++;
            continue;
        }
        if (!a->tail_written) {
            /* as Linux's text_poke_bp: the tail now, behind the int3 (no thread runs it: one
             * resuming at the syscall is moved on by patch_fix_resume), then another round of
             * kernel entries before the first byte, so that no vCPU can see the jmp's opcode
             * with the instruction's old bytes after it */
            cover_write_tail(a->at, a->len, a->stub);
            /* what arming_look expects from now on */
            memcpy(a->orig + 1, (const void *)(a->at + 1), a->len + 1);
            a->tail_written = true;
            a->cpus = running;
            for (uint64_t m = running; m; m &= m - 1) {
                unsigned c = (unsigned)__builtin_ctzll(m);
                a->entries[c] = __atomic_load_n(&g_kernel_entries[c], __ATOMIC_ACQUIRE);
            }
            if (running) {
                i++;
                continue;
            }
        }
        uint64_t x = a->at + a->len;
        cover_write_first(a->at);
        uint32_t *s = patch_site_state(x, false);
        if (s)
            *s = (*s & ~(uint32_t)SITE_COVER_ARMING) | SITE_PATCHED_COVER;
        st->ncover++;
        g_patched_cover++;
        klog(ALC_LOG_DEBUG,
             "syscall site %#lx now enters without a trap (with the %u-byte instruction before "
             "it, once every vCPU had passed through the kernel)",
             x, a->len);
        st->arming[i] = st->arming[--st->narming];
    }
}

/* The stub that the jmp at at (a covered site's) leads to, when the bytes there are still such
 * a jmp and the stub and the n bytes after its start are in a stub area; else 0. All five bytes
 * may lie on two pages: an mprotect may since have split the mapping between them (the jmp
 * still there, in two mappings: it must still be taken), or a munmap removed the second page
 * (reading it here would fault, and the fault kill the process). */
static uint64_t cover_jmp_stub(uint64_t at, uint32_t n)
{
    const struct vma *v = vms_lookup(mm_space(), at), *v_end = vms_lookup(mm_space(), at + 4);
    if (!v || !v_end || !(v->prot & PROT_EXEC) || !(v_end->prot & PROT_EXEC))
        return 0;
    const uint8_t *b = (const uint8_t *)at;
    int32_t rel;
    memcpy(&rel, b + 1, 4);
    uint64_t stub = at + 5 + (uint64_t)(int64_t)rel;
    return b[0] == 0xe9 && patch_stub_contains(stub) && patch_stub_contains(stub + n) ? stub : 0;
}

/* The armed site whose instruction is at at (by_sys: whose syscall is at at), or NULL. */
static struct arming *arming_find(uint64_t at, bool by_sys)
{
    struct patch_state *st = ps();
    for (unsigned i = 0; st && i < st->narming; i++)
        if ((by_sys ? st->arming[i].at + st->arming[i].len : st->arming[i].at) == at)
            return &st->arming[i];
    return NULL;
}

bool patch_breakpoint(struct regs *r)
{
    struct patch_state *st = ps();
    if (!st || (!st->narming && !st->ncover))
        return false;
    uint64_t at = r->rip - 1, stub = 0;
    struct arming *a = arming_find(at, false);
    if (a && arming_look(a) != ARMING_GONE) {
        stub = a->stub;
    } else if (!a && patch_cover_site_at(at)) {
        /* finished since: a vCPU may still have seen the int3 (the jmp's first byte came
         * last); the jmp now there says where the stub is */
        stub = cover_jmp_stub(at, 0);
    }
    if (!stub || !patch_stub_contains(stub))
        return false; /* the program's own int3 */
    r->rip = stub;    /* the stub runs the instruction, then enters as the syscall would */
    patch_cover_finish();
    return true;
}

/* Way 3 (see the top of the file) for the syscall at x: its instruction's length in *len. */
enum cover_result patch_cover(const struct vma *v, uint64_t x, uint32_t *len, const char **why)
{
    /* *why stays way 2's unless this site is one of way 3's */
    if (!(v->kind & VMA_F_FILE) || !v->file || !vfs_immutable(v->file))
        return COVER_NO; /* not in an image file's code: only those are scanned */
    uint64_t sys_off = v->off + (x - v->start);
    uint32_t n = cover_len(v->file, sys_off);
    uint64_t at = x - n;
    if (!n) {
        for (uint32_t k = X86_COVER_LEN_MIN; k <= X86_COVER_LEN_MAX; k++)
            if (x - k >= v->start && x86_cover_movable((const uint8_t *)(x - k), k) == k)
                *why = "no dead padding near, and its file's unwind tables do not show that "
                       "nothing jumps to it or into the instruction before it";
        return COVER_NO;
    }
    if (at < v->start || memcmp(v->file->data + (sys_off - n), (const void *)at, n + 2) != 0)
        return COVER_NO; /* not all in this mapping, or not the file's bytes any more */
    uint64_t cpus = others_running();
    struct patch_state *st = ps();
    if (cpus == ~0ull || (cpus && st->narming == ARMING_MAX))
        return COVER_LATER;
    if (mm_make_private(at, x + 2)) {
        *why = "no memory for a copy of its code page";
        return COVER_NO;
    }
    uint64_t stub = patch_make_stub((const uint8_t *)at, n, x + 2, at);
    if (!stub) {
        *why = "no stub area with room within a rel32 jump";
        return COVER_NO;
    }
    *len = n;
    if (!cpus) {
        cover_write_tail(at, n, stub); /* nothing runs these bytes now */
        cover_write_first(at);
        st->ncover++;
        return COVER_DONE;
    }
    /* other vCPUs may be running them: the int3 first (one byte: an instruction is seen
     * either whole or with the int3), the rest once they have all entered the kernel */
    struct arming *a = &st->arming[st->narming++];
    *a = (struct arming){.at = at, .stub = stub, .len = n, .cpus = cpus};
    memcpy(a->orig, (const void *)at, n + 2);
    for (uint64_t m = cpus; m; m &= m - 1) {
        unsigned c = (unsigned)__builtin_ctzll(m);
        a->entries[c] = __atomic_load_n(&g_kernel_entries[c], __ATOMIC_ACQUIRE);
    }
    __atomic_store_n(patch_code_at(at, 1), (uint8_t)0xcc, __ATOMIC_RELEASE);
    return COVER_ARMED;
}

void patch_fix_resume(struct regs *r)
{
    struct patch_state *st = ps();
    if (!st || (!st->ncover && !st->narming))
        return;
    uint32_t *s = patch_site_state(r->rip, false);
    if (!s || !(*s & (SITE_PATCHED_COVER | SITE_COVER_ARMING)))
        return;
    if (*s & SITE_COVER_ARMING) {
        /* under way: the syscall is still there, but it may be overwritten before this thread
         * runs it (its vCPU may have entered the kernel since the int3 was written) */
        struct arming *a = arming_find(r->rip, true);
        if (a && arming_look(a) != ARMING_GONE)
            r->rip = a->stub + a->len;
        return;
    }
    /* still this file's jmp to a stub? The code there may have been unmapped since, and other
     * code mapped at that address, where rip is an ordinary instruction */
    uint32_t n = SITE_COVER_LEN(*s);
    /* the syscall's address is inside the jmp or the int3 after it: into the stub past its
     * copy of the instruction, which ran before the syscall did */
    uint64_t stub = cover_jmp_stub(r->rip - n, n);
    if (stub)
        r->rip = stub + n;
}
