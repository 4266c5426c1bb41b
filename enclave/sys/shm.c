/* shm.c: System V shared memory (shmget, shmat, shmdt, shmctl) and /proc/sysvipc/shm.
 *
 * A segment is a file without a name on the kernel's internal tmpfs (tmpfs_new_file), as on
 * Linux: shmat maps it MAP_SHARED (VMA_SHARED | VMA_F_SHM, file offset 0 at the attach address),
 * so every process that attaches it maps the same frames, a fork's child inherits the
 * attachment, and execve and exit detach it with the address space. The segment table below
 * holds one reference to the file; each address space that maps it holds one more (mm.c), so
 * "attached anywhere" is the file having more than the table's reference, and a segment marked
 * for removal (IPC_RMID) is freed by shm_sweep once the last address space let it go.
 * shm_nattch counts the attachments (mappings marked VMA_F_SHM) over the distinct address
 * spaces, computed when asked.
 *
 * Keys, ids and permissions are ipc.c's (Linux's rules); the order of the checks follows
 * Linux 6.1's ipc/shm.c.
 *
 * Differences, documented in docs/processes.md: a segment's memory is taken when it is made (a
 * tmpfs file's bytes are, here), and SHM_HUGETLB segments are ordinary memory.
 */
#include "ipc.h"

#include "file.h"
#include "klib.h"
#include "mm.h"
#include "process.h"
#include "sysvipc.h"
#include "syscall.h"
#include "vfs.h"

#define SHM_LOCK     11
#define SHM_UNLOCK   12
#define SHM_STAT     13
#define SHM_INFO     14
#define SHM_STAT_ANY 15
#define SHM_RDONLY   010000
#define SHM_RND      020000
#define SHM_REMAP    040000
#define SHM_EXEC     0100000
#define SHM_DEST     01000 /* in the mode: removed, freed at the last detach */
#define SHM_LOCKED   02000

/* struct shmid64_ds, x86-64 */
struct shmid64_ds {
    struct ipc64_perm perm;
    uint64_t segsz;
    int64_t atime, dtime, ctime;
    int32_t cpid, lpid;
    uint64_t nattch, unused4, unused5;
};
struct shminfo64 {
    uint64_t shmmax, shmmin, shmmni, shmseg, shmall, unused[4];
};
struct shm_info {
    int32_t used_ids;
    uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};

struct seg {
    struct kipc_perm perm; /* mode: permission bits, SHM_DEST, SHM_LOCKED */
    uint64_t size;
    int64_t atime, dtime, ctime;
    int cpid, lpid;
    struct inode *file; /* the table's reference */
};

static struct ipc_table g_shm = {.max = SHMMNI};
static unsigned g_removed; /* segments marked SHM_DEST */
static uint64_t g_pages;   /* pages of every segment (SHMALL) */

static struct seg *seg_at(int idx)
{
    return (struct seg *)ipc_slot(&g_shm, idx);
}

static struct seg *by_id(int id, int *idx)
{
    return (struct seg *)ipc_lookup(&g_shm, id, idx);
}

unsigned long shm_nattch(const struct inode *file)
{
    unsigned long n = 0;
    for (const struct process *p = process_list(); p; p = p->all_next) {
        if (!p->mm)
            continue;
        bool seen = false; /* a vfork child shares its parent's space: count it once */
        for (const struct process *q = process_list(); q != p && !seen; q = q->all_next)
            seen = q->mm == p->mm;
        for (uint32_t i = 0; !seen && i < p->mm->space.n; i++) {
            const struct vma *v = &p->mm->space.v[i];
            n += (v->kind & VMA_F_SHM) && v->file == file;
        }
    }
    return n;
}

static void destroy(int idx)
{
    struct seg *s = seg_at(idx);
    g_pages -= PAGE_UP(s->size) / PAGE_SIZE;
    if (s->perm.mode & SHM_DEST)
        g_removed--;
    ipc_remove(&g_shm, idx);
    vfs_put(s->file);
    kfree(s);
}

void shm_sweep(void)
{
    for (int i = 0; g_removed && i < SHMMNI; i++) {
        struct seg *s = seg_at(i);
        if (s && (s->perm.mode & SHM_DEST) && s->file->refs == 1)
            destroy(i);
    }
}

static long newseg(int32_t key, uint64_t size, int flg)
{
    if (size < SHMMIN || size > SHMMAX)
        return -EINVAL;
    uint64_t pages = PAGE_UP(size) / PAGE_SIZE;
    if (g_pages + pages < g_pages || g_pages + pages > SHMALL)
        return -ENOSPC;
    if (g_shm.used >= SHMMNI)
        return -ENOSPC;
    if (size > mm_total_bytes())
        return -ENOMEM;
    struct seg *s = kzalloc(sizeof(*s));
    struct inode *f = s ? tmpfs_new_file(S_IFREG | (flg & 0777)) : NULL;
    if (!f) {
        kfree(s);
        return -ENOMEM;
    }
    vfs_get(f);
    int id = tmpfs_truncate(f, size) ? -ENOMEM : ipc_add(&g_shm, &s->perm, key, flg);
    if (id < 0) {
        vfs_put(f);
        kfree(s);
        return id;
    }
    s->size = size;
    s->ctime = ipc_now();
    s->cpid = current_process()->pid;
    s->file = f;
    g_pages += pages;
    return id;
}

/* shmget on an existing key: EINVAL when it is smaller than asked (before the permissions) */
static int big_enough(struct kipc_perm *p, long size)
{
    return ((struct seg *)p)->size < (uint64_t)size ? -EINVAL : 0;
}

SYSCALL_DEFINE3(shmget, int32_t, key, uint64_t, size, int, flg)
{
    shm_sweep();
    long idx = ipc_get(&g_shm, key, flg, big_enough, (long)size);
    if (idx == IPC_GET_NEW)
        return newseg(key, size, flg);
    return idx < 0 ? idx : ipc_id(&g_shm, (int)idx);
}

/* The mapping v is part of an attachment of file made at addr. */
static bool attached_at(const struct vma *v, uint64_t addr, const struct inode *file)
{
    return (v->kind & VMA_F_SHM) && v->file == file && v->off == v->start - addr;
}

SYSCALL_DEFINE3(shmat, int, id, uint64_t, addr, int, flg)
{
    shm_sweep();
    if (addr & (PAGE_SIZE - 1)) {
        if (!(flg & SHM_RND))
            return -EINVAL;
        addr = PAGE_DOWN(addr);
        if (!addr && (flg & SHM_REMAP))
            return -EINVAL;
    } else if (!addr && (flg & SHM_REMAP)) {
        return -EINVAL;
    }
    struct seg *s = by_id(id, NULL);
    if (!s)
        return -EINVAL;
    uint32_t prot = PROT_READ, want = 0444;
    if (!(flg & SHM_RDONLY)) {
        prot |= PROT_WRITE;
        want |= 0222;
    }
    if (flg & SHM_EXEC) {
        prot |= PROT_EXEC;
        want |= 0111;
    }
    if (ipc_may(&s->perm, want))
        return -EACCES;
    uint64_t len = PAGE_UP(s->size), at = addr;
    struct vmspace *vs = mm_space();
    if (addr) {
        uint64_t end;
        if (__builtin_add_overflow(addr, len, &end) || end > vs->hi)
            return -ENOMEM; /* what Linux's mmap says */
        if (addr < vs->lo)
            return -EINVAL;
        if (!vms_is_free(vs, addr, end) && !(flg & SHM_REMAP))
            return -EINVAL; /* Linux: it would cover another mapping */
    } else if (mm_find_free(len, PAGE_SIZE, 0, &at)) {
        return -ENOMEM;
    }
    /* held across the unmapping of what SHM_REMAP replaces, which may be this removed
     * segment's last attachment (shm_sweep frees a segment only its table holds) */
    vfs_get(s->file);
    int err = !vms_is_free(vs, at, at + len) && mm_unmap(at, at + len) ? -ENOMEM : 0;
    if (!err)
        err = mm_map_file(at, len, prot, VMA_SHARED | VMA_F_SHM, s->file, 0);
    vfs_put(s->file);
    if (err)
        return err;
    s->atime = ipc_now();
    s->lpid = current_process()->pid;
    return (long)at;
}

/* Linux's rule: the first attachment at or above addr whose offset says it was attached at addr
 * (the whole attachment, or what munmap and mprotect left of it) names the segment; every piece
 * of that segment attached at addr, within its size, is unmapped. */
SYSCALL_DEFINE1(shmdt, uint64_t, addr)
{
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    struct vmspace *vs = mm_space();
    const struct vma *v;
    for (v = vms_next(vs, addr); v && !attached_at(v, addr, v->file); v = vms_next(vs, v->end))
        ;
    if (!v)
        return -EINVAL;
    struct inode *file = v->file;
    uint64_t end = addr + PAGE_UP(file->size);
    vfs_get(file); /* the unmapping may drop this space's reference */
    /* the first piece whole (mremap may have grown it), the others within the size */
    uint64_t a = v->end;
    int err = mm_unmap(v->start, a);
    while (!err && (v = vms_next(vs, a)) && v->end <= end) {
        uint64_t s = v->start;
        a = v->end; /* the table changes under v: go on from its end */
        if (attached_at(v, addr, file))
            err = mm_unmap(s, a);
    }
    if (err) {
        vfs_put(file);
        return err;
    }
    for (int i = 0; i < SHMMNI; i++) {
        struct seg *s = seg_at(i);
        if (s && s->file == file) {
            s->dtime = ipc_now();
            s->lpid = current_process()->pid;
        }
    }
    vfs_put(file);
    shm_sweep();
    return 0;
}

static long stat_of(const struct seg *s, uint64_t buf)
{
    struct shmid64_ds d = {0};
    ipc_fill(&s->perm, &d.perm);
    d.segsz = s->size;
    d.atime = s->atime;
    d.dtime = s->dtime;
    d.ctime = s->ctime;
    d.cpid = s->cpid;
    d.lpid = s->lpid;
    d.nattch = shm_nattch(s->file);
    return copy_to_user(buf, &d, sizeof(d)) ? -EFAULT : 0;
}

static long info(int cmd, uint64_t buf)
{
    if (cmd == IPC_INFO) {
        struct shminfo64 in = {.shmmax = SHMMAX,
                               .shmmin = SHMMIN,
                               .shmmni = SHMMNI,
                               .shmseg = SHMMNI,
                               .shmall = SHMALL};
        if (copy_to_user(buf, &in, sizeof(in)))
            return -EFAULT;
    } else {
        struct shm_info in;
        memset(&in, 0, sizeof(in)); /* its padding too */
        in.used_ids = g_shm.used;
        in.shm_tot = in.shm_rss = g_pages; /* a tmpfs file's bytes all have frames */
        if (copy_to_user(buf, &in, sizeof(in)))
            return -EFAULT;
    }
    return ipc_max_idx(&g_shm);
}

static long set(struct seg *s, uint64_t buf)
{
    struct shmid64_ds d;
    if (copy_from_user(&d, buf, sizeof(d)))
        return -EFAULT;
    int err = ipc_set(&s->perm, &d.perm);
    if (!err)
        s->ctime = ipc_now();
    return err;
}

/* SHM_LOCK and SHM_UNLOCK: only a mark, nothing is ever swapped out here. */
static long lock(struct seg *s, int cmd)
{
    if (!cred_privileged()) {
        uint32_t euid = current_process()->cred.uid[1];
        if (euid != s->perm.uid && euid != s->perm.cuid)
            return -EPERM;
        if (cmd == SHM_LOCK && !current_process()->rlimits[RLIMIT_MEMLOCK].cur)
            return -EPERM;
    }
    if (cmd == SHM_LOCK)
        s->perm.mode |= SHM_LOCKED;
    else
        s->perm.mode &= ~(uint32_t)SHM_LOCKED;
    return 0;
}

SYSCALL_DEFINE3(shmctl, int, id, int, cmd, uint64_t, buf)
{
    shm_sweep();
    if (id < 0 || cmd < 0)
        return -EINVAL;
    if (cmd == IPC_INFO || cmd == SHM_INFO)
        return info(cmd, buf);
    int idx = id;
    struct seg *s;
    switch (cmd) {
    case SHM_STAT:
    case SHM_STAT_ANY:
        if (!(s = seg_at(id)))
            return -EINVAL;
        if (cmd == SHM_STAT && ipc_may(&s->perm, 0444))
            return -EACCES;
        long err = stat_of(s, buf);
        return err ? err : ipc_id(&g_shm, idx);
    case IPC_STAT:
    case IPC_SET:
    case IPC_RMID:
    case SHM_LOCK:
    case SHM_UNLOCK:
        if (!(s = by_id(id, &idx)))
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    switch (cmd) {
    case IPC_STAT:
        return ipc_may(&s->perm, 0444) ? -EACCES : stat_of(s, buf);
    case IPC_SET:
        return set(s, buf);
    case IPC_RMID:
        if (!ipc_owns(&s->perm))
            return -EPERM;
        if (!(s->perm.mode & SHM_DEST)) {
            s->perm.mode |= SHM_DEST;
            s->perm.key = IPC_PRIVATE; /* shmget no longer finds it */
            g_removed++;
        }
        shm_sweep();
        return 0;
    default:
        return lock(s, cmd);
    }
}

int shm_line(int *idx, char *buf, size_t size)
{
    for (int i = *idx; i < SHMMNI; i++) {
        const struct seg *s = seg_at(i);
        if (!s)
            continue;
        const struct kipc_perm *p = &s->perm;
        *idx = i;
        return ksnprintf(buf, size,
                         "%10d %10d  %4o %21lu %5d %5d  %5lu %5u %5u %5u %5u %10ld %10ld %10ld "
                         "%21lu %21lu\n",
                         p->key, ipc_id(&g_shm, i), p->mode, s->size, s->cpid, s->lpid,
                         shm_nattch(s->file), p->uid, p->gid, p->cuid, p->cgid, s->atime, s->dtime,
                         s->ctime, PAGE_UP(s->size), 0ul) > 0;
    }
    return 0;
}
