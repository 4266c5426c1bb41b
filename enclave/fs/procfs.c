/* procfs.c: /proc: the machine's files and the tree; each process's directory is
 * procfs_pid.c's.
 *
 *   /proc/<pid>          every process, live or zombie (procfs_pid.c)
 *   /proc/self           a link to the calling process's directory; thread-self to its thread's
 *   /proc/{cpuinfo,meminfo,uptime,loadavg,stat,version,mounts},
 *   /proc/sys/kernel/{pid_max,tainted,core_pattern,core_uses_pid}, and System V IPC's limits
 *   /proc/sysvipc/{shm,sem,msg}   System V IPC's objects (sys/ipc.c)
 *
 * The numbers are the enclave's: its vCPUs, its memory, its uptime. Files are generated when
 * opened (a consistent snapshot). */
#include "procfs.h"

#include "file.h"
#include "mm.h"
#include "process.h"
#include "scheduler.h"
#include "sysvipc.h"
#include "syscall.h"

#define RELEASE "6.1.0-alcove"
#define PID_MAX 4194304

/* ---- text buffers ---- */

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

void tprintf(struct text *t, const char *fmt, ...)
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

void tput(struct text *t, const void *bytes, size_t n)
{
    if (!troom(t, n))
        return;
    memcpy(t->p + t->len, bytes, n);
    t->len += n;
}

/* ---- the generated files ---- */

enum proc_file {
    PF_MOUNTS = 1,
    PF_CPUINFO,
    PF_MEMINFO,
    PF_UPTIME,
    PF_LOADAVG,
    PF_SYSSTAT,
    PF_VERSION,
    PF_PID_MAX,
    PF_TAINTED,
    PF_CORE_PATTERN,
    PF_CORE_USES_PID,
    PF_SYSVIPC,                    /* + enum sysvipc_kind: /proc/sysvipc/{shm,sem,msg} */
    PF_IPC_LIMIT = PF_SYSVIPC + 3, /* + an index in g_ipc_limits: /proc/sys/kernel/... */
};

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

static const char *const g_ipc_limits[] = {"shmmax", "shmall", "shmmni", "sem",
                                           "msgmax", "msgmnb", "msgmni"};

static void gen_sysvipc(struct text *t, enum sysvipc_kind kind)
{
    char line[256];
    tprintf(t, "%s", sysvipc_header(kind));
    for (int i = 0; sysvipc_line(kind, &i, line, sizeof(line)); i++)
        tprintf(t, "%s", line);
}

static void generate(struct text *t, uint64_t which)
{
    switch (which) {
    case PF_MOUNTS:
        mount_gen_list(t);
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
        tprintf(t, "0.00 0.00 0.00 1/%u %d\n", thread_count(), process_list()->pid);
        break;
    case PF_SYSSTAT:
        gen_sysstat(t);
        break;
    case PF_VERSION:
        tprintf(t, "Linux version " RELEASE " (alcove enclave kernel) #1 SMP\n");
        break;
    case PF_TAINTED:
        tprintf(t, "0\n"); /* nothing the enclave kernel runs taints it */
        break;
    case PF_PID_MAX:
        tprintf(t, "%d\n", PID_MAX); /* Linux's on 64-bit machines; ids are never reused here */
        break;
    case PF_CORE_PATTERN: /* Linux's defaults, which kernel/coredump.c follows */
        tprintf(t, "core\n");
        break;
    case PF_CORE_USES_PID:
        tprintf(t, "0\n");
        break;
    default:
        if (which >= PF_IPC_LIMIT) {
            char line[64];
            sysvipc_limit(g_ipc_limits[which - PF_IPC_LIMIT], line, sizeof(line));
            tprintf(t, "%s", line);
        } else if (which >= PF_SYSVIPC) {
            gen_sysvipc(t, (enum sysvipc_kind)(which - PF_SYSVIPC));
        }
        break;
    }
}

int procfs_open_text(struct inode *ino, uint32_t flags, struct text *t, struct file **out)
{
    if (t->failed) {
        kfree(t->p);
        return -ENOMEM;
    }
    return vfs_open_snapshot(ino, flags, t->p, t->len, out);
}

static int gen_open(struct inode *ino, uint32_t flags, struct file **out)
{
    struct text t = {0};
    generate(&t, ino->arg);
    return procfs_open_text(ino, flags, &t, out);
}

static const struct inode_ops g_gen_iops = {.open = gen_open};

/* ---- self and thread-self: links computed from the caller ---- */

static long self_readlink(struct inode *ino, char *buf, size_t size)
{
    char tmp[32];
    int n = ino->arg
                ? ksnprintf(tmp, sizeof(tmp), "%d/task/%d", current_process()->pid, current()->tid)
                : ksnprintf(tmp, sizeof(tmp), "%d", current_process()->pid);
    n = (int)MIN((size_t)n, size);
    memcpy(buf, tmp, (size_t)n);
    return n;
}

static const struct inode_ops g_self_iops = {.readlink = self_readlink};

/* ---- /proc itself: its stored entries, and a directory per process ---- */

static struct inode *proc_lookup(struct inode *dir, const char *name, uint32_t len)
{
    if (len > 0 && name[0] >= '1' && name[0] <= '9') {
        int pid = procfs_parse_num(name, len);
        return pid > 0 ? procfs_pid_dir(dir, pid) : NULL;
    }
    struct dirent_node *d = vfs_entry(dir, name, len);
    return d ? d->inode : NULL;
}

/* The processes first, then the stored entries. */
static int proc_entry(struct inode *dir, uint64_t index, char *name, size_t size,
                      struct inode **child)
{
    if (procfs_pid_entry(dir, index, name, size, child))
        return 1;
    uint64_t nprocs = 0;
    for (const struct process *p = process_list(); p; p = p->all_next)
        nprocs++;
    if (index < nprocs)
        return 0; /* a process directory could not be made */
    uint64_t i = nprocs;
    for (const struct dirent_node *d = dir->children; d; d = d->next) {
        if (i++ == index) {
            size_t n = MIN((size_t)d->name_len, size - 1);
            memcpy(name, d->name, n);
            name[n] = 0;
            *child = d->inode;
            return 1;
        }
    }
    return 0;
}

static const struct inode_ops g_proc_iops = {.lookup = proc_lookup, .entry = proc_entry};

/* ---- building the tree ---- */

struct inode *procfs_add(struct inode *dir, const char *name, uint32_t mode)
{
    struct inode *ino = vfs_new_inode(mode, DEV_PROC, I_READONLY);
    if (!ino)
        return NULL;
    if (vfs_link(dir, name, (uint32_t)strlen(name), ino, false)) {
        kfree(ino);
        return NULL;
    }
    return ino;
}

static struct inode *add_gen(struct inode *dir, const char *name, uint64_t which)
{
    struct inode *ino = procfs_add(dir, name, S_IFREG | 0444);
    if (ino) {
        ino->iops = &g_gen_iops;
        ino->arg = which;
    }
    return ino;
}

static struct inode *add_link(struct inode *dir, const char *name, const char *target)
{
    struct inode *ino = procfs_add(dir, name, S_IFLNK | 0777);
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
    proc->iops = &g_proc_iops;
    int err = mount_at(root, "proc", 4, proc, "proc", "proc", "ro,nosuid,nodev,noexec", false);
    if (err)
        return err;

    struct inode *self = procfs_add(proc, "self", S_IFLNK | 0777);
    struct inode *thread_self = procfs_add(proc, "thread-self", S_IFLNK | 0777);
    if (!self || !thread_self)
        return -ENOMEM;
    self->iops = thread_self->iops = &g_self_iops;
    thread_self->arg = 1;
    static const struct {
        const char *name;
        uint64_t which;
    } files[] = {{"cpuinfo", PF_CPUINFO}, {"meminfo", PF_MEMINFO}, {"uptime", PF_UPTIME},
                 {"loadavg", PF_LOADAVG}, {"stat", PF_SYSSTAT},    {"version", PF_VERSION}};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++)
        if (!add_gen(proc, files[i].name, files[i].which))
            return -ENOMEM;
    struct inode *sys = procfs_add(proc, "sys", S_IFDIR | 0555);
    struct inode *kernel = sys ? procfs_add(sys, "kernel", S_IFDIR | 0555) : NULL;
    if (!kernel || !add_gen(kernel, "pid_max", PF_PID_MAX) ||
        !add_gen(kernel, "tainted", PF_TAINTED) ||
        !add_gen(kernel, "core_pattern", PF_CORE_PATTERN) ||
        !add_gen(kernel, "core_uses_pid", PF_CORE_USES_PID))
        return -ENOMEM;
    for (size_t i = 0; i < ARRAY_SIZE(g_ipc_limits); i++)
        if (!add_gen(kernel, g_ipc_limits[i], PF_IPC_LIMIT + i))
            return -ENOMEM;
    static const char *const ipc_files[] = {"shm", "sem", "msg"}; /* enum sysvipc_kind */
    struct inode *ipc = procfs_add(proc, "sysvipc", S_IFDIR | 0555);
    for (size_t i = 0; i < ARRAY_SIZE(ipc_files); i++)
        if (!ipc || !add_gen(ipc, ipc_files[i], PF_SYSVIPC + i))
            return -ENOMEM;
    return add_link(proc, "mounts", "self/mounts") ? 0 : -ENOMEM;
}
