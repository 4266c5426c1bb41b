/* procfs.c: /proc: what static programs read about themselves and the machine.
 *
 *   /proc/self -> 1, which is the calling process, whatever its pid (/proc/<pid> of another
 *                            process is not there yet: docs/processes.md)
 *   /proc/1/{exe,cwd,root}   links; fd/ the open descriptors as links; cmdline, comm, environ
 *                            is left out; maps, status, stat, mounts
 *   /proc/{cpuinfo,meminfo,uptime,loadavg,stat,version,mounts}, /proc/sys/kernel/pid_max
 *
 * The numbers are the enclave's: its vCPUs, its memory, its uptime. Files are generated when
 * opened (a consistent snapshot). */
#include "exe.h"
#include "file.h"
#include "klib.h"
#include "mm.h"
#include "process.h"
#include "scheduler.h"
#include "syscall.h"
#include "vfs.h"

#define RELEASE "6.1.0-alcove"
#define PID_MAX 4194304

/* ---- text buffers ---- */

struct text {
    char *p;
    size_t len, cap;
    bool failed;
};

/* Makes room for n more bytes (false when out of memory: the text is marked failed). */
static bool troom(struct text *t, size_t n)
{
    if (t->failed)
        return false;
    if (t->len + n < t->cap)
        return true;
    size_t cap = MAX(t->cap * 2, t->len + n + 256);
    char *p = kmalloc(cap);
    if (!p) {
        t->failed = true;
        return false;
    }
    if (t->len)
        memcpy(p, t->p, t->len);
    kfree(t->p);
    t->p = p;
    t->cap = cap;
    return true;
}

static void tprintf(struct text *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void tprintf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !troom(t, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    kvsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static void tput(struct text *t, const void *bytes, size_t n)
{
    if (!troom(t, n))
        return;
    memcpy(t->p + t->len, bytes, n);
    t->len += n;
}

/* ---- the generated files ---- */

enum proc_file {
    PF_CMDLINE = 1,
    PF_COMM,
    PF_MAPS,
    PF_STATUS,
    PF_STAT,
    PF_MOUNTS,
    PF_CPUINFO,
    PF_MEMINFO,
    PF_UPTIME,
    PF_LOADAVG,
    PF_SYSSTAT,
    PF_VERSION,
    PF_PID_MAX,
};

static const char *basename_of(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' && p[1])
            b = p + 1;
    return b;
}

static void gen_maps(struct text *t)
{
    const struct vmspace *s = mm_space();
    for (uint32_t i = 0; i < s->n; i++) {
        const struct vma *v = &s->v[i];
        const char *name = v->kind == VMA_EXE     ? exe_path()
                           : v->kind == VMA_HEAP  ? "[heap]"
                           : v->kind == VMA_STACK ? "[stack]"
                                                  : "";
        tprintf(t, "%08lx-%08lx %c%c%c%c 00000000 00:00 0", v->start, v->end,
                (v->prot & PROT_READ) ? 'r' : '-', (v->prot & PROT_WRITE) ? 'w' : '-',
                (v->prot & PROT_EXEC) ? 'x' : '-', v->kind == VMA_SHARED ? 's' : 'p');
        tprintf(t, *name ? "          %s\n" : "\n", name);
    }
}

static int ppid_of(const struct process *p)
{
    return p->parent ? p->parent->pid : 0;
}

static void gen_status(struct text *t)
{
    const struct process *p = current_process();
    uint64_t kib = mm_rss_bytes() / 1024, vm = mm_space()->mapped / 1024;
    tprintf(t,
            "Name:\t%.15s\nUmask:\t%04o\nState:\tR (running)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n"
            "PPid:\t%d\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\n"
            "Groups:\t\nVmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmRSS:\t%8lu kB\nThreads:\t%u\n"
            "Cpus_allowed_list:\t0-%u\n",
            basename_of(exe_path()), p->umask, p->pid, p->pid, ppid_of(p), FD_MAX, vm, vm, kib,
            thread_count(), g_boot->cpu_count - 1);
}

static void gen_stat(struct text *t)
{
    /* pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime cutime cstime priority nice threads itrealvalue starttime vsize rss ... */
    const struct process *p = current_process();
    uint64_t ticks = time_since_boot_ns() / 10000000; /* USER_HZ 100 */
    tprintf(t, "%d (%.15s) R %d %d %d 0 -1 4194560 0 0 0 0 %lu 0 0 0 20 0 %u 0 0 %lu %lu\n", p->pid,
            basename_of(exe_path()), ppid_of(p), p->pgid, p->sid, ticks, p->nthreads,
            mm_space()->mapped, mm_rss_bytes() / PAGE_SIZE);
}

static void gen_mounts(struct text *t)
{
    tprintf(t, "rootfs / rootfs ro 0 0\nproc /proc proc ro,nosuid,nodev,noexec 0 0\n"
               "devfs /dev devtmpfs ro,nosuid 0 0\n");
    /* tmpfs mounts: the writable directories at the top two levels */
    struct inode *root = vfs_root();
    for (const struct dirent_node *d = root->children; d; d = d->next) {
        const struct inode *a = d->inode;
        if ((a->flags & I_MOUNT) && vfs_writable(a))
            tprintf(t, "tmpfs /%.*s tmpfs rw,nosuid,nodev 0 0\n", (int)d->name_len, d->name);
        if (!S_ISDIR(a->mode))
            continue;
        for (const struct dirent_node *e = a->children; e; e = e->next)
            if ((e->inode->flags & I_MOUNT) && vfs_writable(e->inode))
                tprintf(t, "tmpfs /%.*s/%.*s tmpfs rw,nosuid,nodev 0 0\n", (int)d->name_len,
                        d->name, (int)e->name_len, e->name);
    }
}

struct cpu_flag {
    uint32_t leaf, sub;
    uint8_t reg, bit; /* reg: 0 eax, 1 ebx, 2 ecx, 3 edx */
    const char *name;
};

static const struct cpu_flag g_flags[] = {
    {1, 0, 3, 0, "fpu"},
    {1, 0, 3, 4, "tsc"},
    {1, 0, 3, 5, "msr"},
    {1, 0, 3, 6, "pae"},
    {1, 0, 3, 8, "cx8"},
    {1, 0, 3, 9, "apic"},
    {1, 0, 3, 11, "sep"},
    {1, 0, 3, 13, "pge"},
    {1, 0, 3, 15, "cmov"},
    {1, 0, 3, 16, "pat"},
    {1, 0, 3, 19, "clflush"},
    {1, 0, 3, 23, "mmx"},
    {1, 0, 3, 24, "fxsr"},
    {1, 0, 3, 25, "sse"},
    {1, 0, 3, 26, "sse2"},
    {1, 0, 3, 28, "ht"},
    {0x80000001, 0, 3, 11, "syscall"},
    {0x80000001, 0, 3, 20, "nx"},
    {0x80000001, 0, 3, 26, "pdpe1gb"},
    {0x80000001, 0, 3, 27, "rdtscp"},
    {0x80000001, 0, 3, 29, "lm"},
    {1, 0, 2, 0, "pni"},
    {1, 0, 2, 1, "pclmulqdq"},
    {1, 0, 2, 9, "ssse3"},
    {1, 0, 2, 12, "fma"},
    {1, 0, 2, 13, "cx16"},
    {1, 0, 2, 17, "pcid"},
    {1, 0, 2, 19, "sse4_1"},
    {1, 0, 2, 20, "sse4_2"},
    {1, 0, 2, 21, "x2apic"},
    {1, 0, 2, 22, "movbe"},
    {1, 0, 2, 23, "popcnt"},
    {1, 0, 2, 25, "aes"},
    {1, 0, 2, 26, "xsave"},
    {1, 0, 2, 28, "avx"},
    {1, 0, 2, 29, "f16c"},
    {1, 0, 2, 30, "rdrand"},
    {1, 0, 2, 31, "hypervisor"},
    {0x80000001, 0, 2, 0, "lahf_lm"},
    {0x80000001, 0, 2, 5, "abm"},
    {0x80000001, 0, 2, 8, "3dnowprefetch"},
    {7, 0, 1, 0, "fsgsbase"},
    {7, 0, 1, 3, "bmi1"},
    {7, 0, 1, 5, "avx2"},
    {7, 0, 1, 7, "smep"},
    {7, 0, 1, 8, "bmi2"},
    {7, 0, 1, 9, "erms"},
    {7, 0, 1, 10, "invpcid"},
    {7, 0, 1, 16, "avx512f"},
    {7, 0, 1, 17, "avx512dq"},
    {7, 0, 1, 18, "rdseed"},
    {7, 0, 1, 19, "adx"},
    {7, 0, 1, 20, "smap"},
    {7, 0, 1, 21, "avx512ifma"},
    {7, 0, 1, 23, "clflushopt"},
    {7, 0, 1, 24, "clwb"},
    {7, 0, 1, 28, "avx512cd"},
    {7, 0, 1, 29, "sha_ni"},
    {7, 0, 1, 30, "avx512bw"},
    {7, 0, 1, 31, "avx512vl"},
    {7, 0, 2, 1, "avx512vbmi"},
    {7, 0, 2, 8, "gfni"},
    {7, 0, 2, 9, "vaes"},
    {7, 0, 2, 10, "vpclmulqdq"},
    {7, 0, 2, 11, "avx512_vnni"},
    {7, 0, 2, 14, "avx512_vpopcntdq"},
    {7, 0, 3, 4, "fsrm"},
    {0xd, 1, 0, 0, "xsaveopt"},
    {0xd, 1, 0, 1, "xsavec"},
    {0xd, 1, 0, 3, "xsaves"},
};

static void gen_cpuinfo(struct text *t)
{
    uint32_t r[4], max, maxext;
    cpuid(0, 0, r);
    max = r[0];
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    cpuid(0x80000000, 0, r);
    maxext = r[0];
    char brand[49] = "unknown";
    if (maxext >= 0x80000004) {
        for (uint32_t i = 0; i < 3; i++) {
            cpuid(0x80000002 + i, 0, r);
            memcpy(brand + 16 * i, r, 16);
        }
        brand[48] = 0;
    }
    const char *b = brand;
    while (*b == ' ')
        b++;
    cpuid(1, 0, r);
    uint32_t family = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf, stepping = r[0] & 0xf;
    if (family == 0xf)
        family += (r[0] >> 20) & 0xff;
    if (family >= 6)
        model |= ((r[0] >> 16) & 0xf) << 4;
    uint64_t mhz = g_boot->tsc_hz / 1000000, khz_frac = (g_boot->tsc_hz / 1000) % 1000;
    for (uint32_t cpu = 0; cpu < g_boot->cpu_count; cpu++) {
        tprintf(t,
                "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
                "model name\t: %s\nstepping\t: %u\ncpu MHz\t\t: %lu.%03lu\n"
                "physical id\t: 0\nsiblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\n"
                "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\nflags\t\t:",
                cpu, vendor, family, model, b, stepping, mhz, khz_frac, g_boot->cpu_count, cpu,
                g_boot->cpu_count, max);
        for (size_t i = 0; i < ARRAY_SIZE(g_flags); i++) {
            const struct cpu_flag *f = &g_flags[i];
            if (f->leaf >= 0x80000000 ? f->leaf > maxext : f->leaf > max)
                continue;
            cpuid(f->leaf, f->sub, r);
            if ((r[f->reg] >> f->bit) & 1)
                tprintf(t, " %s", f->name);
        }
        tprintf(t, "\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 46 bits "
                   "physical, 48 bits virtual\n\n");
    }
}

static void gen_meminfo(struct text *t)
{
    uint64_t total = mm_total_bytes() / 1024, used = mm_used_bytes() / 1024;
    uint64_t free = total > used ? total - used : 0;
    tprintf(t,
            "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
            "Buffers:               0 kB\nCached:                0 kB\nSwapCached:            0 "
            "kB\nActive:         %8lu kB\nInactive:              0 kB\nSwapTotal:             0 "
            "kB\nSwapFree:              0 kB\nShmem:                 0 kB\n"
            "Hugepagesize:       2048 kB\n",
            total, free, free, used);
}

static void gen_uptime(struct text *t)
{
    uint64_t cs = time_since_boot_ns() / 10000000;
    tprintf(t, "%lu.%02lu %lu.%02lu\n", cs / 100, cs % 100, cs / 100, cs % 100);
}

static void gen_sysstat(struct text *t)
{
    uint64_t ticks = time_since_boot_ns() / 10000000;
    tprintf(t, "cpu  %lu 0 0 0 0 0 0 0 0 0\n", ticks);
    for (uint32_t c = 0; c < g_boot->cpu_count; c++)
        tprintf(t, "cpu%u %lu 0 0 0 0 0 0 0 0 0\n", c, c == 0 ? ticks : 0);
    unsigned n = 0;
    for (const struct process *p = process_list(); p; p = p->all_next)
        n++;
    tprintf(t, "intr 0\nctxt 0\nbtime %ld\nprocesses %u\nprocs_running 1\nprocs_blocked 0\n",
            (time_realtime_ns() - (int64_t)time_since_boot_ns()) / 1000000000, n);
}

static void generate(struct text *t, uint64_t which)
{
    switch (which) {
    case PF_CMDLINE: {
        uint64_t s, e;
        exe_args(&s, &e);
        if (e > s && user_range_ok(s, e - s, PROT_READ))
            tput(t, (const void *)s, e - s);
        break;
    }
    case PF_COMM:
        tprintf(t, "%.15s\n", basename_of(exe_path()));
        break;
    case PF_MAPS:
        gen_maps(t);
        break;
    case PF_STATUS:
        gen_status(t);
        break;
    case PF_STAT:
        gen_stat(t);
        break;
    case PF_MOUNTS:
        gen_mounts(t);
        break;
    case PF_CPUINFO:
        gen_cpuinfo(t);
        break;
    case PF_MEMINFO:
        gen_meminfo(t);
        break;
    case PF_UPTIME:
        gen_uptime(t);
        break;
    case PF_LOADAVG:
        tprintf(t, "0.00 0.00 0.00 1/1 1\n");
        break;
    case PF_SYSSTAT:
        gen_sysstat(t);
        break;
    case PF_VERSION:
        tprintf(t, "Linux version " RELEASE " (alcove enclave kernel) #1 SMP\n");
        break;
    case PF_PID_MAX:
        tprintf(t, "%d\n", PID_MAX); /* Linux's on 64-bit machines; ids are never reused here */
        break;
    }
}

static int gen_open(struct inode *ino, uint32_t flags, struct file **out)
{
    struct text t = {0};
    generate(&t, ino->arg);
    if (t.failed) {
        kfree(t.p);
        return -ENOMEM;
    }
    return vfs_open_snapshot(ino, flags, t.p, t.len, out);
}

static const struct inode_ops g_gen_iops = {.open = gen_open};

/* ---- links computed from the process: exe, cwd ---- */

enum { PL_EXE = 1, PL_CWD };

static long plink_readlink(struct inode *ino, char *buf, size_t size)
{
    if (ino->arg == PL_EXE) {
        size_t n = MIN(size, strlen(exe_path()));
        memcpy(buf, exe_path(), n);
        return (long)n;
    }
    char path[PATH_MAX_LEN];
    long n = vfs_path_of(vfs_cwd(), path, sizeof(path));
    if (n < 0)
        return n;
    n = (long)MIN((size_t)n, size);
    memcpy(buf, path, (size_t)n);
    return n;
}

static const struct inode_ops g_plink_iops = {.readlink = plink_readlink};

/* ---- /proc/self/fd: one magic link per open descriptor ---- */

static struct inode *g_fd_links[FD_MAX];

static long fdlink_readlink(struct inode *ino, char *buf, size_t size)
{
    struct file *f = fd_get((int)ino->arg);
    if (!f)
        return -ENOENT;
    char tmp[PATH_MAX_LEN];
    long n;
    if (f->inode) {
        n = vfs_path_of(f->inode, tmp, sizeof(tmp));
        if (n == -ENOENT)
            n = ksnprintf(tmp, sizeof(tmp), "/ (deleted)");
    } else if (f->ops->name) {
        n = f->ops->name(f, tmp, sizeof(tmp));
    } else {
        n = ksnprintf(tmp, sizeof(tmp), "anon_inode:[alcove]");
    }
    if (n < 0)
        return n;
    n = (long)MIN((size_t)n, size);
    memcpy(buf, tmp, (size_t)n);
    return n;
}

static struct inode *fdlink_follow(struct inode *link)
{
    struct file *f = fd_get((int)link->arg);
    return f ? f->inode : NULL;
}

static int fdlink_stat(struct inode *link, struct linux_stat *st)
{
    struct file *f = fd_get((int)link->arg);
    if (!f)
        return -ENOENT;
    if (!f->ops->stat)
        return -EINVAL;
    return f->ops->stat(f, st);
}

/* Opening /proc/self/fd/N for an object outside the tree (a pipe, the console) opens the same
 * object: the same open file description. */
static int fdlink_open(struct inode *link, uint32_t flags, struct file **out)
{
    struct file *f = fd_get((int)link->arg);
    if (!f)
        return -ENOENT;
    if (f->inode)
        return vfs_open(f->inode, flags, out);
    *out = f;
    return 0;
}

static const struct inode_ops g_fdlink_iops = {
    .readlink = fdlink_readlink,
    .follow = fdlink_follow,
    .stat = fdlink_stat,
    .open = fdlink_open,
};

static struct inode *fd_link(int fd)
{
    if (fd < 0 || fd >= FD_MAX || !fd_get(fd))
        return NULL;
    if (!g_fd_links[fd]) {
        struct inode *ino = vfs_new_inode(S_IFLNK | 0700, DEV_PROC, I_READONLY | I_PINNED);
        if (!ino)
            return NULL;
        ino->iops = &g_fdlink_iops;
        ino->arg = (uint64_t)fd;
        ino->nlink = 1;
        g_fd_links[fd] = ino;
    }
    return g_fd_links[fd];
}

static struct inode *fddir_lookup(struct inode *dir, const char *name, uint32_t len)
{
    (void)dir;
    if (len == 0 || len > 4 || (len > 1 && name[0] == '0'))
        return NULL;
    int fd = 0;
    for (uint32_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9')
            return NULL;
        fd = fd * 10 + (name[i] - '0');
    }
    return fd_link(fd);
}

static int fddir_entry(struct inode *dir, uint64_t index, char *name, size_t size,
                       struct inode **child)
{
    (void)dir;
    uint64_t seen = 0;
    for (int fd = 0; fd < FD_MAX; fd++) {
        if (!fd_get(fd))
            continue;
        if (seen++ == index) {
            *child = fd_link(fd);
            if (!*child)
                return 0;
            ksnprintf(name, size, "%d", fd);
            return 1;
        }
    }
    return 0;
}

static const struct inode_ops g_fddir_iops = {.lookup = fddir_lookup, .entry = fddir_entry};

/* ---- building the tree ---- */

static struct inode *add(struct inode *dir, const char *name, uint32_t mode)
{
    struct inode *ino = vfs_new_inode(mode, DEV_PROC, I_READONLY | I_PINNED);
    if (!ino || vfs_link(dir, name, (uint32_t)strlen(name), ino, false))
        return NULL;
    return ino;
}

static struct inode *add_gen(struct inode *dir, const char *name, uint64_t which)
{
    struct inode *ino = add(dir, name, S_IFREG | 0444);
    if (ino) {
        ino->iops = &g_gen_iops;
        ino->arg = which;
    }
    return ino;
}

static struct inode *add_link(struct inode *dir, const char *name, const char *target)
{
    struct inode *ino = add(dir, name, S_IFLNK | 0777);
    if (ino) {
        ino->data = (uint8_t *)target;
        ino->size = strlen(target);
    }
    return ino;
}

int procfs_mount(void)
{
    struct inode *root = vfs_root();
    struct inode *proc = vfs_new_inode(S_IFDIR | 0555, DEV_PROC, I_READONLY | I_MOUNT);
    if (!proc)
        return -ENOMEM;
    struct dirent_node *d = vfs_entry(root, "proc", 4);
    if (d)
        vfs_replace(root, d, proc);
    else if (vfs_link(root, "proc", 4, proc, false))
        return -ENOMEM;

    struct inode *self = add(proc, "1", S_IFDIR | 0555);
    if (!self || !add_link(proc, "self", "1") || !add_link(proc, "thread-self", "1/task/1"))
        return -ENOMEM;
    struct inode *exe = add(self, "exe", S_IFLNK | 0777);
    struct inode *cwd = add(self, "cwd", S_IFLNK | 0777);
    struct inode *fd = add(self, "fd", S_IFDIR | 0500);
    if (!exe || !cwd || !fd || !add_link(self, "root", "/"))
        return -ENOMEM;
    exe->iops = cwd->iops = &g_plink_iops;
    exe->arg = PL_EXE;
    cwd->arg = PL_CWD;
    fd->iops = &g_fddir_iops;
    struct inode *task = add(self, "task", S_IFDIR | 0555);
    if (!task || !add_link(task, "1", ".."))
        return -ENOMEM;

    static const struct {
        const char *name;
        uint64_t which;
    } self_files[] = {{"cmdline", PF_CMDLINE}, {"comm", PF_COMM}, {"maps", PF_MAPS},
                      {"status", PF_STATUS},   {"stat", PF_STAT}, {"mounts", PF_MOUNTS}},
      top_files[] = {{"cpuinfo", PF_CPUINFO}, {"meminfo", PF_MEMINFO}, {"uptime", PF_UPTIME},
                     {"loadavg", PF_LOADAVG}, {"stat", PF_SYSSTAT},    {"version", PF_VERSION}};
    for (size_t i = 0; i < ARRAY_SIZE(self_files); i++)
        if (!add_gen(self, self_files[i].name, self_files[i].which))
            return -ENOMEM;
    for (size_t i = 0; i < ARRAY_SIZE(top_files); i++)
        if (!add_gen(proc, top_files[i].name, top_files[i].which))
            return -ENOMEM;
    struct inode *sys = add(proc, "sys", S_IFDIR | 0555);
    struct inode *kernel = sys ? add(sys, "kernel", S_IFDIR | 0555) : NULL;
    if (!kernel || !add_gen(kernel, "pid_max", PF_PID_MAX))
        return -ENOMEM;
    return add_link(proc, "mounts", "self/mounts") ? 0 : -ENOMEM;
}
