/* coredump.c: the core file of a process killed by a signal whose default action is "core" (see
 * coredump.h), in Linux's order: the other threads leave first (their registers kept), then the
 * file "core" is made in the working directory, and the ELF core (core_elf.h) is written into
 * it: the notes (NT_PRSTATUS per thread, the killed one first, NT_PRPSINFO, NT_SIGINFO,
 * NT_AUXV), then the memory of each mapping.
 *
 * Which mappings hold bytes follows Linux's default coredump_filter: private memory (anonymous,
 * the heap, the stack, the executable's segments, private copies of files) once some page of it
 * has been touched, shared anonymous memory and shared mappings of files without a name; the
 * bytes of a shared mapping of a named file are that file's, and PROT_NONE ranges are never
 * read. Those get a PT_LOAD with p_filesz 0. Memory is read without giving a page a frame: a page
 * never touched is written as zeros, or as the file's bytes in a mapping of an image file (its
 * pages are mapped when touched). The kernel's own ranges of the address space (VMA_KERNEL)
 * are not the program's and are left out.
 *
 * Everything happens under the kernel lock without blocking once the other threads are gone:
 * nothing changes the address space or the directory meanwhile.
 */
#include "coredump.h"

#include "core_elf.h"
#include "fs_common.h"
#include "klib.h"
#include "mm.h"
#include "process.h"
#include "scheduler.h"
#include "signal.h"
#include "vfs.h"

#define CORE_NAME     "core" /* Linux's default core_pattern (core_uses_pid 0) */
#define CORE_NAME_LEN 4
#define CORE_MASK                                                                                  \
    (SIGBIT(SIGQUIT) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) | SIGBIT(SIGABRT) | SIGBIT(SIGBUS) |       \
     SIGBIT(SIGFPE) | SIGBIT(SIGSEGV) | SIGBIT(SIGXCPU) | SIGBIT(SIGXFSZ) | SIGBIT(SIGSYS))

/* A thread as it left, or as the killed one is now. */
struct core_thread {
    int tid;
    struct regs r;
    uint64_t fs_base, gs_base;
    uint64_t sigpend, sighold, cpu_ns;
};

struct coredump {
    unsigned n, cap;
    struct core_thread t[];
};

/* A mapping to dump, copied from the mapping table. */
struct core_map {
    struct core_segment seg;
    struct inode *file;  /* read through the file: a shared mapping of a writable one */
    struct inode *image; /* a private mapping of an image file: what its untouched pages hold */
    uint64_t off;
};

bool coredump_signal(int sig)
{
    return sig >= 1 && sig <= NSIG && (SIGBIT(sig) & CORE_MASK);
}

static void capture(struct core_thread *c, const struct regs *r)
{
    struct thread *t = current();
    c->tid = t->tid;
    c->r = *r;
    __asm__ volatile("rdfsbase %0" : "=r"(c->fs_base));
    __asm__ volatile("rdgsbase %0" : "=r"(c->gs_base));
    c->sigpend = signal_pending_set();
    c->sighold = signal_blocked();
    c->cpu_ns = (uint64_t)sched_thread_cpu_ns(t);
}

void coredump_thread_leaves(struct process *p)
{
    struct coredump *d = p->core;
    if (d->n < d->cap && current()->regs)
        capture(&d->t[d->n++], current()->regs);
}

/* ---- the file ---- */

/* Makes the core file in p's working directory as Linux does for the pattern "core": one that
 * is there goes first when the directory lets the process remove it, then the new one is made
 * exclusively (whatever is still called "core", a symbolic link too, is refused), owned by the
 * filesystem ids, mode 0600 less the umask. */
static int create_core(struct process *p, struct inode **out)
{
    struct inode *dir = p->cwd;
    if (!dir || !S_ISDIR(dir->mode))
        return -ENOTDIR;
    if (!vfs_writable(dir))
        return -EROFS;
    struct inode *old = vfs_child(dir, CORE_NAME, CORE_NAME_LEN);
    if (old && !S_ISDIR(old->mode) && dir_may_change(dir, old) == 0)
        vfs_unlink(dir, CORE_NAME, CORE_NAME_LEN);
    if (vfs_child(dir, CORE_NAME, CORE_NAME_LEN))
        return -EEXIST;
    int err = dir_may_change(dir, NULL);
    if (err)
        return err;
    return vfs_create(dir, CORE_NAME, CORE_NAME_LEN, S_IFREG | (0600 & ~p->umask), out);
}

/* Writes the file in order, up to RLIMIT_CORE bytes: what goes past the limit is cut there,
 * and nothing follows it; a write that memory does not allow ends the file too. */
struct writer {
    struct inode *ino;
    uint64_t off, limit;
    int err;
};

/* len bytes of buf, or zeros when buf is NULL (the file grows over them when something follows:
 * inode_write fills the gap, or finish does at the end). */
static bool emit(struct writer *w, const void *buf, uint64_t len)
{
    if (w->err)
        return false;
    if (mm_memory_low()) {
        w->err = -ENOSPC; /* as a full tmpfs: the others keep the memory they need */
        return false;
    }
    if (w->off + len > w->limit) {
        len = w->limit - w->off;
        w->err = -EFBIG;
    }
    if (buf && len) {
        long n = inode_write(w->ino, buf, len, w->off);
        if (n < 0) {
            w->err = (int)n;
            return false;
        }
    }
    w->off += len;
    return !w->err;
}

static void finish(struct writer *w)
{
    if (w->ino->size < w->off)
        tmpfs_truncate(w->ino, w->off);
}

/* ---- what goes in ---- */

/* How many bytes of mapping v the core holds: all of it or none (see the top of the file). */
static uint64_t dump_size(struct mm *mm, const struct vma *v)
{
    if (v->prot == PROT_NONE)
        return 0;
    if (vma_kind(v) == VMA_SHARED) {
        if (v->file)
            return v->file->nlink == 0 ? v->end - v->start : 0;
        return v->end - v->start;
    }
    return mm_touched_in(mm, v->start, v->end) ? v->end - v->start : 0;
}

/* The mappings as segments; NULL when memory is short. */
static struct core_map *collect_maps(struct mm *mm, unsigned *count)
{
    const struct vmspace *s = &mm->space;
    struct core_map *m = kmalloc(MAX(s->n, 1) * sizeof(*m));
    if (!m)
        return NULL;
    unsigned n = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const struct vma *v = &s->v[i];
        if (vma_kind(v) == VMA_KERNEL)
            continue;
        uint32_t flags = ((v->prot & PROT_READ) ? CORE_PF_R : 0) |
                         ((v->prot & PROT_WRITE) ? CORE_PF_W : 0) |
                         ((v->prot & PROT_EXEC) ? CORE_PF_X : 0);
        bool through_file = v->file && vma_kind(v) == VMA_SHARED && vfs_writable(v->file);
        m[n++] = (struct core_map){
            .seg = {v->start, v->end - v->start, dump_size(mm, v), flags},
            .file = through_file ? v->file : NULL,
            .image = !through_file && v->file && vfs_immutable(v->file) ? v->file : NULL,
            .off = v->off,
        };
    }
    *count = n;
    return m;
}

/* Reads len bytes at va without giving a page a frame (untouched ones read as zeros). */
static void peek(struct mm *mm, uint64_t va, void *dst, size_t len)
{
    while (len > 0) {
        size_t n = MIN(len, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        const uint8_t *page = mm_peek_in(mm, va);
        if (page)
            memcpy(dst, page + (va & (PAGE_SIZE - 1)), n);
        else
            memset(dst, 0, n);
        dst = (uint8_t *)dst + n;
        va += n;
        len -= n;
    }
}

static void fill_gregs(struct core_gregs *g, const struct core_thread *c)
{
    const struct regs *r = &c->r;
    *g = (struct core_gregs){
        .r15 = r->r15,
        .r14 = r->r14,
        .r13 = r->r13,
        .r12 = r->r12,
        .rbp = r->rbp,
        .rbx = r->rbx,
        .r11 = r->r11,
        .r10 = r->r10,
        .r9 = r->r9,
        .r8 = r->r8,
        .rax = r->rax,
        .rcx = r->rcx,
        .rdx = r->rdx,
        .rsi = r->rsi,
        .rdi = r->rdi,
        .orig_rax = r->orig_rax,
        .rip = r->rip,
        .cs = ALC_SEL_UCODE,
        .eflags = r->rflags,
        .rsp = r->rsp,
        .ss = ALC_SEL_UDATA,
        .fs_base = c->fs_base,
        .gs_base = c->gs_base,
    };
}

static void fill_prstatus(struct core_prstatus *ps, const struct process *p,
                          const struct core_thread *c, int sig)
{
    memset(ps, 0, sizeof(*ps));
    ps->si_signo = sig; /* every thread's, as Linux's pr_info and pr_cursig */
    ps->cursig = (int16_t)sig;
    ps->sigpend = c->sigpend;
    ps->sighold = c->sighold;
    ps->pid = c->tid;
    ps->ppid = p->parent ? p->parent->pid : 0;
    ps->pgrp = p->pgid;
    ps->sid = p->sid;
    ps->utime = core_timeval(c->cpu_ns); /* the enclave does not tell user from system time */
    if (c->tid == p->pid)
        ps->cutime = core_timeval(p->children_cpu_ns);
    fill_gregs(&ps->reg, c);
}

static void fill_prpsinfo(struct core_prpsinfo *ps, struct process *p)
{
    memset(ps, 0, sizeof(*ps));
    ps->sname = 'R'; /* state 0: running, as the dumping process is */
    ps->nice = (char)p->nice;
    ps->uid = p->cred.uid[ID_REAL];
    ps->gid = p->cred.gid[ID_REAL];
    ps->pid = p->pid;
    ps->ppid = p->parent ? p->parent->pid : 0;
    ps->pgrp = p->pgid;
    ps->sid = p->sid;
    memcpy(ps->fname, current()->comm, sizeof(ps->fname));
    char args[CORE_PRARGSZ];
    size_t len = 0;
    if (p->arg_end > p->arg_start) {
        len = (size_t)MIN(p->arg_end - p->arg_start, sizeof(args));
        peek(p->mm, p->arg_start, args, len);
    }
    core_psargs(ps->psargs, args, len);
}

/* The notes, in Linux's order: the killed thread's NT_PRSTATUS and the process's notes, then
 * the other threads' NT_PRSTATUS. NULL when memory is short. */
static uint8_t *build_notes(struct process *p, const struct coredump *d,
                            const struct linux_siginfo *info, size_t *size)
{
    size_t total = d->n * core_note_size(sizeof(struct core_prstatus)) +
                   core_note_size(sizeof(struct core_prpsinfo)) + core_note_size(sizeof(*info)) +
                   (p->auxv_bytes ? core_note_size(p->auxv_bytes) : 0);
    uint8_t *buf = kmalloc(total);
    if (!buf)
        return NULL;
    size_t at = 0;
    for (unsigned i = 0; i < d->n; i++) {
        struct core_prstatus ps;
        fill_prstatus(&ps, p, &d->t[i], info->si_signo);
        at += core_note_put(buf + at, CORE_NT_PRSTATUS, &ps, sizeof(ps));
        if (i > 0)
            continue;
        struct core_prpsinfo psinfo;
        fill_prpsinfo(&psinfo, p);
        at += core_note_put(buf + at, CORE_NT_PRPSINFO, &psinfo, sizeof(psinfo));
        at += core_note_put(buf + at, CORE_NT_SIGINFO, info, sizeof(*info));
        if (p->auxv_bytes)
            at += core_note_put(buf + at, CORE_NT_AUXV, p->auxv, p->auxv_bytes);
    }
    *size = at;
    return buf;
}

/* The bytes of one mapping, page by page. */
static bool write_map(struct writer *w, struct mm *mm, const struct core_map *m, uint8_t *page)
{
    for (uint64_t done = 0; done < m->seg.filesz; done += PAGE_SIZE) {
        const void *src;
        if (m->file && m->off + done >= m->file->size)
            return emit(w, NULL, m->seg.filesz - done); /* past the file's end: zeros, at once */
        if (m->file) {
            long n = inode_read(m->file, page, PAGE_SIZE, m->off + done);
            n = n < 0 ? 0 : n; /* past the file's end: zeros */
            memset(page + n, 0, PAGE_SIZE - (size_t)n);
            src = n ? page : NULL;
        } else {
            src = mm_peek_in(mm, m->seg.vaddr + done);
            if (!src && m->image) { /* an untouched page of an image file's mapping: the file's */
                long n = inode_read(m->image, page, PAGE_SIZE, m->off + done);
                n = n < 0 ? 0 : n;
                memset(page + n, 0, PAGE_SIZE - (size_t)n);
                src = page;
            }
        }
        if (!emit(w, src, PAGE_SIZE))
            return false;
    }
    return true;
}

/* What write_core allocates. */
struct core_bufs {
    struct core_map *maps;
    struct core_segment *segs;
    uint8_t *notes, *headers, *page;
};

static void free_bufs(struct core_bufs *b)
{
    kfree(b->maps);
    kfree(b->segs);
    kfree(b->notes);
    kfree(b->headers);
    kfree(b->page);
}

/* Writes the core file; 0 once the file exists with its ELF header (the dump counts then, as on
 * Linux, even when RLIMIT_CORE or memory cut what follows), else -errno. */
static int write_core(struct process *p, const struct coredump *d, const struct linux_siginfo *info,
                      uint64_t limit)
{
    struct core_bufs b = {0};
    unsigned n = 0;
    size_t notes_size = 0;
    b.maps = collect_maps(p->mm, &n);
    b.segs = b.maps ? kmalloc(MAX(n, 1) * sizeof(*b.segs)) : NULL;
    b.notes = b.segs ? build_notes(p, d, info, &notes_size) : NULL;
    b.headers = b.notes ? kmalloc(core_headers_size(n)) : NULL;
    b.page = b.headers ? kmalloc(PAGE_SIZE) : NULL;
    struct inode *ino = NULL;
    int err = b.page ? create_core(p, &ino) : -ENOMEM;
    if (err) {
        free_bufs(&b);
        return err;
    }
    for (unsigned i = 0; i < n; i++)
        b.segs[i] = b.maps[i].seg;
    core_headers_put(b.headers, b.segs, n, notes_size);
    vfs_get(ino);
    struct writer w = {ino, 0, limit, 0};
    emit(&w, b.headers, core_headers_size(n));
    if (w.off < CORE_EHDR_SIZE) {
        err = w.err; /* not even the header: no core file */
        vfs_unlink(p->cwd, CORE_NAME, CORE_NAME_LEN);
    } else if (emit(&w, b.notes, notes_size) &&
               emit(&w, NULL, core_data_offset(n, notes_size) - w.off)) {
        for (unsigned i = 0; i < n; i++)
            if (!write_map(&w, p->mm, &b.maps[i], b.page))
                break;
    }
    if (!err)
        finish(&w);
    vfs_put(ino);
    free_bufs(&b);
    return err;
}

void coredump(const struct linux_siginfo *info, const struct regs *r)
{
    struct process *p = current_process();
    uint64_t limit = p->rlimits[RLIMIT_CORE].cur;
    /* Linux dumps nothing below one page (the ELF format's min_coredump), nor a process that
     * is not dumpable (sys/cred.c) */
    if (limit < CORE_PAGE || p->undumpable || !p->mm)
        return;
    struct coredump *d = kzalloc(sizeof(*d) + p->nthreads * sizeof(d->t[0]));
    if (!d)
        return;
    d->cap = p->nthreads;
    /* the user registers: a fault in the kernel on the program's behalf, or an execve past its
     * point of no return, has the syscall's frame */
    if (!r || r->rip >= ALC_KERNEL_VBASE)
        r = current()->regs;
    capture(&d->t[d->n++], r); /* first: gdb takes the first NT_PRSTATUS as the signalled one */
    p->core = d;
    process_end_others(p, info->si_signo & 0x7f);
    p->core = NULL;
    /* tmpfs is not sparse: a core as large as the address space it describes would take the
     * enclave's memory (the other processes' too); it may have half of what is free */
    uint64_t free_bytes = mm_total_bytes() - mm_used_bytes();
    limit = MIN(limit, MAX(free_bytes / 2, CORE_PAGE));
    int err = write_core(p, d, info, limit);
    kfree(d);
    if (err) {
        klog(ALC_LOG_INFO, "process %d: no core file (error %d)", p->pid, err);
        return;
    }
    p->wstatus |= WCOREFLAG;
    klog(ALC_LOG_INFO, "process %d: core dumped", p->pid);
}
