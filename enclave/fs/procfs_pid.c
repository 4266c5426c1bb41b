/* procfs_pid.c: /proc/<pid>, one directory for every process, live or zombie.
 *
 *   exe, cwd, root    links to the program, the working directory and "/"
 *   fd/N              one "magic" link per open descriptor: readlink names the object, open
 *                     opens it (a pipe: the same open file description)
 *   task/<tid>        one entry per thread (a link to the process's directory)
 *   cmdline, comm, maps, stat, status, mounts
 *   pagemap           a 64-bit entry per virtual page: present, shared, frame
 *
 * A process's directory is made the first time someone looks it up and kept until the process
 * is reaped (procfs_forget); its inodes carry the pid, not the process, so an open file or a
 * working directory inside it that outlives the process finds nothing (ENOENT, ESRCH) rather
 * than freed memory. The files are generated when opened, as a snapshot.
 */
#include "file.h"
#include "mm.h"
#include "pipe.h"
#include "procfs.h"
#include "process.h"
#include "scheduler.h"
#include "syscall.h"
#include "tty.h"

/* What a process's directory owns besides its named entries: the links of fd/ made so far and
 * the one link that every task/<tid> entry is. */
struct procdir {
    struct inode *dir;
    struct inode *task_link;
    struct inode *fd_links[FD_MAX];
};

/* An inode's arg: the pid above, what it is below. */
#define ARG(pid, what) (((uint64_t)(uint32_t)(pid) << 16) | (what))
#define ARG_PID(arg)   ((int)((arg) >> 16))
#define ARG_WHAT(arg)  ((unsigned)((arg)&0xffff))

static struct process *process_of(const struct inode *ino)
{
    return process_find(ARG_PID(ino->arg));
}

/* What another process's exe, cwd, fd/ and maps show is its owner's (Linux asks for the right
 * to trace it): the caller must be privileged, or its filesystem ids must be the process's real,
 * effective and saved ones (a set-ID program that is not is not the caller's to look into). */
static bool may_inspect(const struct process *p)
{
    const struct cred *me = &current_process()->cred, *t = &p->cred;
    if (cred_privileged() || p == current_process())
        return true;
    for (int i = ID_REAL; i <= ID_SAVED; i++)
        if (t->uid[i] != me->uid[ID_FS] || t->gid[i] != me->gid[ID_FS])
            return false;
    return true;
}

/* ---- the generated files ---- */

enum { PF_CMDLINE = 1, PF_COMM, PF_MAPS, PF_STATUS, PF_STAT, PF_MOUNTS };

/* Linux's one-letter state: R runnable, S sleeping, D uninterruptible, T stopped, Z zombie. */
static char state_of(const struct process *p)
{
    if (p->zombie || !p->threads)
        return 'Z';
    if (p->stop_sig && !p->exiting)
        return 'T';
    char s = 'D';
    for_each_thread_of(p, t)
    {
        if (t->state == T_RUNNING || t->state == T_READY)
            return 'R';
        if (t->interruptible)
            s = 'S';
    }
    return s;
}

static const char *state_name(char s)
{
    return s == 'R'   ? "R (running)"
           : s == 'S' ? "S (sleeping)"
           : s == 'D' ? "D (disk sleep)"
           : s == 'T' ? "T (stopped)"
                      : "Z (zombie)";
}

static int ppid_of(const struct process *p)
{
    return p->parent ? p->parent->pid : 0;
}

static uint64_t cpu_ns_of(const struct process *p)
{
    uint64_t ns = p->dead_cpu_ns;
    for_each_thread_of(p, t) ns += (uint64_t)sched_thread_cpu_ns(t);
    return ns;
}

/* As Linux's: a file mapping shows its file's offset, device, inode and path; the program's
 * own anonymous pages (a segment copied, .bss past the file) no name, as on Linux. The fields
 * end with a space; a name follows after padding to 72 characters and one more space. */
static void gen_maps(struct text *t, const struct process *p)
{
    if (!p->mm)
        return;
    static char path[4096]; /* under the kernel lock, as every /proc file is made */
    const struct vmspace *s = &p->mm->space;
    for (uint32_t i = 0; i < s->n; i++) {
        const struct vma *v = &s->v[i];
        struct inode *file = (v->kind & VMA_F_FILE) ? v->file : NULL;
        path[0] = 0;
        if (file && vfs_path_of(file, path, sizeof(path)) <= 0)
            path[0] = 0; /* unlinked since: Linux would add " (deleted)" */
        const char *name = file                       ? path
                           : vma_kind(v) == VMA_HEAP  ? "[heap]"
                           : vma_kind(v) == VMA_STACK ? "[stack]"
                           : (v->kind & VMA_F_VDSO)   ? "[vdso]"
                                                      : "";
        size_t before = t->len;
        tprintf(t, "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ", v->start, v->end,
                (v->prot & PROT_READ) ? 'r' : '-', (v->prot & PROT_WRITE) ? 'w' : '-',
                (v->prot & PROT_EXEC) ? 'x' : '-', vma_kind(v) == VMA_SHARED ? 's' : 'p',
                file ? v->off : 0, file ? (file->dev >> 8) & 0xfff : 0, file ? file->dev & 0xff : 0,
                file ? file->ino : 0);
        if (*name) {
            size_t width = t->len - before;
            tprintf(t, "%*s %s", (int)(width < 72 ? 72 - width : 0), "", name);
        }
        tprintf(t, "\n");
    }
}

/* The bytes of p's locked mappings (mlock, MAP_LOCKED). */
static uint64_t locked_of(const struct process *p)
{
    uint64_t n = 0;
    for (uint32_t i = 0; p->mm && i < p->mm->space.n; i++)
        if (p->mm->space.v[i].kind & VMA_F_LOCKED)
            n += p->mm->space.v[i].end - p->mm->space.v[i].start;
    return n;
}

static void gen_status(struct text *t, const struct process *p)
{
    uint64_t rss = p->mm ? p->mm->rss / 1024 : 0, vm = p->mm ? p->mm->space.mapped / 1024 : 0;
    const struct cred *c = &p->cred;
    tprintf(t,
            "Name:\t%.15s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
            "TracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t%d\nGroups:\t",
            kbasename(p->exe_path), p->umask, state_name(state_of(p)), p->pid, p->pid, ppid_of(p),
            c->uid[0], c->uid[1], c->uid[2], c->uid[3], c->gid[0], c->gid[1], c->gid[2], c->gid[3],
            FD_MAX);
    for (uint32_t i = 0; i < c->ngroups; i++)
        tprintf(t, "%u ", c->groups[i]);
    tprintf(t,
            "\nVmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmLck:\t%8lu kB\nVmRSS:\t%8lu kB\n"
            "Threads:\t%u\nCpus_allowed_list:\t0-%u\n",
            vm, vm, locked_of(p) / 1024, rss, p->nthreads, g_boot->cpu_count - 1);
}

static void gen_stat(struct text *t, const struct process *p)
{
    /* Linux's 52 fields: pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt
     * majflt cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime
     * vsize rss rsslim, then addresses, signals and the rest, zero where there is no such thing
     * here. Times are in clock ticks (USER_HZ 100). */
    uint64_t vsize = p->mm ? p->mm->space.mapped : 0, rss = p->mm ? p->mm->rss / PAGE_SIZE : 0;
    tprintf(t, "%d (%.15s) %c %d %d %d %u %d 4194560 0 0 0 0 %lu 0 %lu 0 %d %d %u 0 %lu %lu %lu ",
            p->pid, kbasename(p->exe_path), state_of(p), ppid_of(p), p->pgid, p->sid, tty_nr_of(p),
            tty_pgrp_of(p), cpu_ns_of(p) / 10000000, p->children_cpu_ns / 10000000, 20 + p->nice,
            p->nice, p->nthreads, p->start_ns / 10000000, vsize, rss);
    tprintf(t,
            "18446744073709551615 0 0 %lu 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 %lu %lu 0 0 0\n",
            p->mm ? p->mm->stack_top : 0, p->arg_start, p->arg_end);
}

static void gen_cmdline(struct text *t, const struct process *p)
{
    uint64_t len = p->arg_end > p->arg_start ? p->arg_end - p->arg_start : 0;
    if (!p->mm || p->zombie || len == 0)
        return;
    char buf[256];
    for (uint64_t off = 0; off < len && !t->failed;) {
        size_t n = (size_t)MIN(len - off, sizeof(buf));
        if (mm_read_in(p->mm, p->arg_start + off, buf, n))
            return;
        tput(t, buf, n);
        off += n;
    }
}

static int gen_open(struct inode *ino, uint32_t flags, struct file **out)
{
    const struct process *p = process_of(ino);
    if (!p)
        return -ESRCH;
    if (ARG_WHAT(ino->arg) == PF_MAPS && !may_inspect(p))
        return -EACCES;
    struct text t = {0};
    switch (ARG_WHAT(ino->arg)) {
    case PF_CMDLINE:
        gen_cmdline(&t, p);
        break;
    case PF_COMM:
        tprintf(&t, "%.15s\n", kbasename(p->exe_path));
        break;
    case PF_MAPS:
        gen_maps(&t, p);
        break;
    case PF_STATUS:
        gen_status(&t, p);
        break;
    case PF_STAT:
        gen_stat(&t, p);
        break;
    case PF_MOUNTS:
        mount_gen_list(&t);
        break;
    }
    return procfs_open_text(ino, flags, &t, out);
}

static const struct inode_ops g_gen_iops = {.open = gen_open};

/* ---- pagemap: one 64-bit entry per virtual page, computed at read ---- */

/* Linux's bits: 63 present, 61 a page of a file or of shared memory, 56 mapped by this process
 * only, 0-54 the frame number (for a privileged reader only, as Linux does since 4.2; the
 * enclave's guest-physical frame). Nothing is ever swapped (bit 62) and soft-dirty tracking
 * (bit 55) does not exist here. */
#define PM_PRESENT   (1ull << 63)
#define PM_FILE      (1ull << 61)
#define PM_EXCLUSIVE (1ull << 56)
#define PM_PFN_MASK  ((1ull << 55) - 1)

static uint64_t pagemap_entry(struct mm *mm, uint64_t va, bool pfn)
{
    uint64_t pa;
    if (va >= MM_USER_END || mmu_lookup(&mm->mmu, va, &pa, NULL, NULL) != 0)
        return 0;
    const struct vma *v = vms_lookup(&mm->space, va);
    bool shared = v && (vma_kind(v) == VMA_SHARED || (v->kind & VMA_F_FILE));
    return PM_PRESENT | (shared ? PM_FILE : PM_EXCLUSIVE) |
           (pfn ? (pa / PAGE_SIZE) & PM_PFN_MASK : 0);
}

/* The entries of the pages that off (a multiple of 8) names onwards; nothing once the process
 * has gone, as Linux reads nothing once the address space has. */
static long pagemap_pread(struct file *f, void *buf, size_t len, uint64_t off)
{
    if (off % 8 || len % 8)
        return -EINVAL;
    uint64_t priv = (uint64_t)(uintptr_t)f->priv;
    const struct process *p = process_find((int)(uint32_t)priv);
    if (!p || p->zombie || !p->mm)
        return 0;
    bool pfn = priv >> 32; /* the opener was privileged */
    uint64_t *out = buf;
    size_t n = 0;
    for (uint64_t page = off / 8; n < len / 8 && page < MM_USER_END / PAGE_SIZE; page++)
        out[n++] = pagemap_entry(p->mm, page * PAGE_SIZE, pfn);
    return (long)(n * 8);
}

static long pagemap_read(struct file *f, void *buf, size_t len)
{
    long n = pagemap_pread(f, buf, len, f->pos);
    if (n > 0)
        f->pos += (uint64_t)n;
    return n;
}

/* Any position, as Linux's /proc/<pid>/mem and pagemap allow; no end to seek from. */
static int64_t pagemap_lseek(struct file *f, int64_t off, int whence)
{
    if (whence == SEEK_CUR)
        off += (int64_t)f->pos;
    else if (whence != SEEK_SET)
        return -EINVAL;
    f->pos = (uint64_t)off;
    return off;
}

static const struct file_ops g_pagemap_ops = {
    .read = pagemap_read,
    .pread = pagemap_pread,
    .lseek = pagemap_lseek,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};

static int pagemap_open(struct inode *ino, uint32_t flags, struct file **out)
{
    const struct process *p = process_of(ino);
    if (!p)
        return -ESRCH;
    if (!may_inspect(p))
        return -EACCES;
    struct file *f = vfs_open_inode(ino, flags);
    if (!f)
        return -ENOMEM;
    f->ops = &g_pagemap_ops;
    /* the pid, and whether frame numbers are shown: decided by the opener, as Linux does */
    f->priv = (void *)(uintptr_t)((uint32_t)p->pid | ((uint64_t)cred_privileged() << 32));
    *out = f;
    return 0;
}

static const struct inode_ops g_pagemap_iops = {.open = pagemap_open};

/* ---- exe and cwd ---- */

enum { PL_EXE = 1, PL_CWD };

static long copy_out(char *buf, size_t size, const char *s, long n)
{
    if (n < 0)
        return n;
    n = (long)MIN((size_t)n, size);
    memcpy(buf, s, (size_t)n);
    return n;
}

static long plink_readlink(struct inode *ino, char *buf, size_t size)
{
    const struct process *p = process_of(ino);
    if (!p || p->zombie)
        return -ENOENT;
    if (!may_inspect(p))
        return -EACCES;
    if (ARG_WHAT(ino->arg) == PL_EXE)
        return copy_out(buf, size, p->exe_path, (long)strlen(p->exe_path));
    char path[PATH_MAX_LEN];
    return copy_out(buf, size, path, vfs_path_of(p->cwd ? p->cwd : vfs_root(), path, sizeof(path)));
}

static const struct inode_ops g_plink_iops = {.readlink = plink_readlink};

/* ---- fd/: one magic link per open descriptor ---- */

/* The file open as descriptor fd in the link's process, or NULL. Not held: it is used at once,
 * under the kernel lock, and never across a wait. */
static struct file *file_of(const struct inode *link)
{
    const struct process *p = process_of(link);
    return p && p->files && may_inspect(p) ? fd_peek(p->files, (int)ARG_WHAT(link->arg)) : NULL;
}

static long fdlink_readlink(struct inode *ino, char *buf, size_t size)
{
    struct file *f = file_of(ino);
    if (!f)
        return -ENOENT;
    char tmp[PATH_MAX_LEN];
    long n;
    if (f->inode) {
        n = vfs_path_of(f->inode, tmp, sizeof(tmp));
        if (n == -ENOENT)
            n = ksnprintf(tmp, sizeof(tmp), "/%s (deleted)",
                          f->inode->anon_name ? f->inode->anon_name : "");
    } else if (f->ops->name) {
        n = f->ops->name(f, tmp, sizeof(tmp));
    } else {
        n = ksnprintf(tmp, sizeof(tmp), "anon_inode:[alcove]");
    }
    return copy_out(buf, size, tmp, n);
}

static struct inode *fdlink_follow(struct inode *link)
{
    struct file *f = file_of(link);
    return f ? f->inode : NULL;
}

static int fdlink_stat(struct inode *link, struct linux_stat *st)
{
    struct file *f = file_of(link);
    if (!f)
        return -ENOENT;
    if (!f->ops->stat)
        return -EINVAL;
    return f->ops->stat(f, st);
}

/* Opening fd/N of an object outside the tree (the lookup follows the others to their inode):
 * a pipe gets a new end with the access asked for, the console is the same open file, anything
 * else (sockets, eventfds) is ENXIO, as on Linux. */
static int fdlink_open(struct inode *link, uint32_t flags, struct file **out)
{
    struct file *f = file_of(link);
    if (!f)
        return -ENOENT;
    if (f->inode)
        return -ELOOP; /* reached only through O_NOFOLLOW, which open refuses first */
    if (f == console_file(0) || f == console_file(1) || f == console_file(2)) {
        *out = f; /* the descriptor it is installed as takes the reference */
        return 0;
    }
    return pipe_reopen(f, flags, out);
}

static const struct inode_ops g_fdlink_iops = {
    .readlink = fdlink_readlink,
    .follow = fdlink_follow,
    .stat = fdlink_stat,
    .open = fdlink_open,
};

static struct inode *fd_link(struct process *p, int fd)
{
    if (fd < 0 || fd >= FD_MAX || !p->procdir || !p->files || !fd_peek(p->files, fd))
        return NULL;
    struct inode **slot = &p->procdir->fd_links[fd];
    if (!*slot) {
        struct inode *ino = vfs_new_inode(S_IFLNK | 0700, DEV_PROC, I_READONLY);
        if (!ino)
            return NULL;
        ino->iops = &g_fdlink_iops;
        ino->arg = ARG(p->pid, (unsigned)fd);
        ino->nlink = 1; /* the directory's hold, dropped by procfs_forget */
        *slot = ino;
    }
    return *slot;
}

int procfs_parse_num(const char *name, uint32_t len)
{
    if (len == 0 || len > 9 || (len > 1 && name[0] == '0'))
        return -1;
    int n = 0;
    for (uint32_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        n = n * 10 + (name[i] - '0');
    }
    return n;
}

static struct inode *fddir_lookup(struct inode *dir, const char *name, uint32_t len)
{
    struct process *p = process_of(dir);
    int fd = procfs_parse_num(name, len);
    return p && fd >= 0 ? fd_link(p, fd) : NULL;
}

static int fddir_entry(struct inode *dir, uint64_t index, char *name, size_t size,
                       struct inode **child)
{
    struct process *p = process_of(dir);
    if (!p || !p->files)
        return 0;
    uint64_t seen = 0;
    for (int fd = 0; fd < FD_MAX; fd++) {
        if (!fd_peek(p->files, fd) || seen++ != index)
            continue;
        *child = fd_link(p, fd);
        if (!*child)
            return 0;
        ksnprintf(name, size, "%d", fd);
        return 1;
    }
    return 0;
}

static const struct inode_ops g_fddir_iops = {.lookup = fddir_lookup, .entry = fddir_entry};

/* ---- task/: one entry per thread ---- */

static struct inode *taskdir_lookup(struct inode *dir, const char *name, uint32_t len)
{
    struct process *p = process_of(dir);
    int tid = procfs_parse_num(name, len);
    if (!p || !p->procdir || tid < 0)
        return NULL;
    for_each_thread_of(p, t) if (t->tid == tid) return p->procdir->task_link;
    return NULL;
}

static int taskdir_entry(struct inode *dir, uint64_t index, char *name, size_t size,
                         struct inode **child)
{
    struct process *p = process_of(dir);
    if (!p || !p->procdir)
        return 0;
    uint64_t i = 0;
    for_each_thread_of(p, t)
    {
        if (i++ == index) {
            ksnprintf(name, size, "%d", t->tid);
            *child = p->procdir->task_link;
            return 1;
        }
    }
    return 0;
}

static const struct inode_ops g_taskdir_iops = {.lookup = taskdir_lookup, .entry = taskdir_entry};

/* ---- the directory ---- */

static struct inode *add_computed(struct inode *dir, const char *name, uint32_t mode,
                                  const struct inode_ops *iops, uint64_t arg)
{
    struct inode *ino = procfs_add(dir, name, mode);
    if (ino) {
        ino->iops = iops;
        ino->arg = arg;
    }
    return ino;
}

static struct procdir *build(struct inode *proc, struct process *p)
{
    struct procdir *pd = kzalloc(sizeof(*pd));
    struct inode *dir = vfs_new_inode(S_IFDIR | 0555, DEV_PROC, I_READONLY);
    struct inode *task_link = vfs_new_inode(S_IFLNK | 0777, DEV_PROC, I_READONLY);
    if (!pd || !dir || !task_link) {
        kfree(pd);
        kfree(dir);
        kfree(task_link);
        return NULL;
    }
    dir->parent = proc;
    dir->nlink = 2; /* held by the process until procfs_forget */
    dir->arg = ARG(p->pid, 0);
    task_link->data = (uint8_t *)"..";
    task_link->size = 2;
    task_link->nlink = 1;
    pd->dir = dir;
    pd->task_link = task_link;
    p->procdir = pd;

    static const struct {
        const char *name;
        unsigned what;
    } files[] = {{"cmdline", PF_CMDLINE}, {"comm", PF_COMM}, {"maps", PF_MAPS},
                 {"status", PF_STATUS},   {"stat", PF_STAT}, {"mounts", PF_MOUNTS}};
    bool ok = add_computed(dir, "exe", S_IFLNK | 0777, &g_plink_iops, ARG(p->pid, PL_EXE)) &&
              add_computed(dir, "cwd", S_IFLNK | 0777, &g_plink_iops, ARG(p->pid, PL_CWD)) &&
              add_computed(dir, "fd", S_IFDIR | 0500, &g_fddir_iops, ARG(p->pid, 0)) &&
              add_computed(dir, "task", S_IFDIR | 0555, &g_taskdir_iops, ARG(p->pid, 0)) &&
              add_computed(dir, "pagemap", S_IFREG | 0400, &g_pagemap_iops, ARG(p->pid, 0));
    struct inode *root = ok ? procfs_add(dir, "root", S_IFLNK | 0777) : NULL;
    if (root) {
        root->data = (uint8_t *)"/";
        root->size = 1;
    }
    ok = root != NULL;
    for (size_t i = 0; ok && i < ARRAY_SIZE(files); i++)
        ok = add_computed(dir, files[i].name, S_IFREG | 0444, &g_gen_iops,
                          ARG(p->pid, files[i].what)) != NULL;
    if (!ok) {
        procfs_forget(p);
        return NULL;
    }
    return pd;
}

struct inode *procfs_pid_dir(struct inode *proc, int pid)
{
    struct process *p = pid > 0 ? process_find(pid) : NULL;
    if (!p)
        return NULL;
    if (!p->procdir && !build(proc, p))
        return NULL;
    /* owned by the process's effective ids, as they are now (fd/ is 0500: its owner's only) */
    struct inode *dir = p->procdir->dir;
    dir->uid = p->cred.uid[ID_EFF];
    dir->gid = p->cred.gid[ID_EFF];
    for (struct dirent_node *d = dir->children; d; d = d->next) {
        d->inode->uid = dir->uid;
        d->inode->gid = dir->gid;
    }
    return dir;
}

int procfs_pid_entry(struct inode *proc, uint64_t index, char *name, size_t size,
                     struct inode **child)
{
    uint64_t i = 0;
    for (struct process *p = process_list(); p; p = p->all_next) {
        if (i++ != index)
            continue;
        *child = procfs_pid_dir(proc, p->pid);
        if (!*child)
            return 0;
        ksnprintf(name, size, "%d", p->pid);
        return 1;
    }
    return 0;
}

bool procfs_in_pid_dir(const struct inode *ino)
{
    for (; ino->dev == DEV_PROC && ino->parent && ino->parent != ino; ino = ino->parent)
        if (S_ISDIR(ino->mode) && ARG_PID(ino->arg) > 0)
            return true;
    return false;
}

void procfs_forget(struct process *p)
{
    struct procdir *pd = p->procdir;
    if (!pd)
        return;
    p->procdir = NULL;
    while (pd->dir->children)
        vfs_unlink(pd->dir, pd->dir->children->name, pd->dir->children->name_len);
    for (int fd = 0; fd < FD_MAX; fd++)
        if (pd->fd_links[fd])
            vfs_drop(pd->fd_links[fd]);
    vfs_drop(pd->task_link);
    vfs_drop(pd->dir);
    kfree(pd);
}
