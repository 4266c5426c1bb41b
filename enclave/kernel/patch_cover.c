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

/* Writes the jmp of the way-3 site at at (n bytes, then the syscall) to stub: what the jmp
 * leaves of the instruction and, when the jmp cuts it, the syscall become int3; the jmp's
 * first byte last (while a vCPU may still see an int3 there, patch_breakpoint takes it). */
static void cover_write(uint64_t at, uint32_t n, uint64_t stub)
{
    uint64_t x = at + n;
    for (uint64_t p = at + 5; p < (n >= 5 ? x : x + 2); p++)
        *(volatile uint8_t *)patch_code_at(p, 1) = 0xcc;
    patch_write_jmp32_dead(at, stub);
}

/* Still an armed site's bytes (the int3, then the rest of what it replaced)? The program may
 * have unmapped that code since, and mapped other code there. */
static bool arming_intact(const struct arming *a)
{
    const struct vma *v = vms_lookup(mm_space(), a->at),
                     *v_end = vms_lookup(mm_space(), a->at + a->len + 1);
    if (!v || !v_end || !patch_patchable(v) || !patch_patchable(v_end))
        return false;
    const uint8_t *b = (const uint8_t *)a->at;
    return b[0] == 0xcc && memcmp(b + 1, a->orig + 1, a->len + 1) == 0;
}

static void arming_drop(struct patch_state *st, unsigned i)
{
    uint32_t *s = patch_site_state(st->arming[i].at + st->arming[i].len, false);
    if (s)
        *s &= ~(uint32_t)SITE_COVER_ARMING;
    st->arming[i] = st->arming[--st->narming];
}

/* Finishes the armed sites whose vCPUs have all entered the kernel since they were armed: no
 * thread can still be between their two instructions (one that was has run the syscall, or
 * been stopped there and is moved on by patch_fix_resume), and each vCPU's entry serialized
 * its instruction stream. */
void patch_cover_finish(void)
{
    struct patch_state *st = ps();
    for (unsigned i = 0; st && i < st->narming;) {
        struct arming *a = &st->arming[i];
        if (!arming_intact(a)) {
            arming_drop(st, i); /* not ours any more: forgotten */
            continue;
        }
        bool all = true;
        for (uint64_t m = a->cpus; m && all; m &= m - 1) {
            unsigned c = (unsigned)__builtin_ctzll(m);
            all = __atomic_load_n(&g_kernel_entries[c], __ATOMIC_ACQUIRE) != a->entries[c];
        }
        if (!all) {
            i++;
            continue;
        }
        uint64_t x = a->at + a->len;
        cover_write(a->at, a->len, a->stub);
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
    if (a && arming_intact(a)) {
        stub = a->stub;
    } else if (!a && patch_cover_site_at(at)) {
        /* finished since: a vCPU may still have seen the int3 (the jmp's first byte came
         * last); the jmp now there says where the stub is */
        const struct vma *v = vms_lookup(mm_space(), at), *v_end = vms_lookup(mm_space(), at + 4);
        const uint8_t *b = (const uint8_t *)at;
        if (v && v_end && patch_patchable(v) && patch_patchable(v_end) && b[0] == 0xe9) {
            int32_t rel;
            memcpy(&rel, b + 1, 4);
            stub = at + 5 + (uint64_t)(int64_t)rel;
        }
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
        cover_write(at, n, stub); /* nothing runs these bytes now */
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
        if (a && arming_intact(a))
            r->rip = a->stub + a->len;
        return;
    }
    /* still this file's jmp to a stub? The code there may have been unmapped since, and other
     * code mapped at that address, where rip is an ordinary instruction */
    uint32_t n = SITE_COVER_LEN(*s);
    uint64_t at = r->rip - n;
    /* all five bytes, which may lie on two pages: an mprotect may since have split the mapping
     * between them (the jmp still there, in two mappings: it must still be taken), or a munmap
     * removed the second page (reading it here would fault, and the fault kill the process) */
    const struct vma *v = vms_lookup(mm_space(), at), *v_end = vms_lookup(mm_space(), at + 4);
    if (!v || !v_end || !(v->prot & PROT_EXEC) || !(v_end->prot & PROT_EXEC))
        return;
    const uint8_t *b = (const uint8_t *)at;
    int32_t rel;
    memcpy(&rel, b + 1, 4);
    uint64_t stub = at + 5 + (uint64_t)(int64_t)rel;
    /* the syscall's address is inside the jmp or the int3 after it: into the stub past its
     * copy of the instruction, which ran before the syscall did */
    if (b[0] == 0xe9 && patch_stub_contains(stub) && patch_stub_contains(stub + n))
        r->rip = stub + n;
}
