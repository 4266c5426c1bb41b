/* memfd.c: memfd_create and file seals (fcntl F_ADD_SEALS, F_GET_SEALS).
 *
 * A memfd is a writable file with no name on the kernel's internal tmpfs (tmpfs_new_file), open
 * O_RDWR: read, write, mmap (shared mappings map its own pages), ftruncate and the rest are a
 * tmpfs file's. /proc/self/fd/N names it "/memfd:NAME (deleted)", as Linux does. Seals live in
 * the inode and are checked where a file changes: inode_write (F_SEAL_WRITE, F_SEAL_GROW),
 * tmpfs_truncate (F_SEAL_SHRINK, F_SEAL_GROW), fallocate (F_SEAL_GROW) and mmap (a writable
 * shared mapping of a file sealed against writing is EPERM; a read-only shared one may not be
 * made writable). Another tmpfs file has F_SEAL_SEAL (as Linux's shmem files), the image's
 * files no seals at all (EINVAL). MFD_HUGETLB is
 * ENOSYS, as on a Linux built without hugetlbfs: the enclave has none.
 */
#include "file.h"
#include "klib.h"
#include "mm.h"
#include "process.h"
#include "syscall.h"
#include "vfs.h"

#define MFD_CLOEXEC       0x1u
#define MFD_ALLOW_SEALING 0x2u
#define MFD_HUGETLB       0x4u
#define MFD_HUGE_BITS     (0x3fu << 26) /* a huge page size, with MFD_HUGETLB */
#define MFD_NAME_PREFIX   "memfd:"
#define MFD_NAME_MAX      (NAME_MAX_LEN - 6)

SYSCALL_DEFINE2(memfd_create, uint64_t, uname, uint32_t, flags)
{
    uint32_t known = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB;
    if (flags & ~(known | ((flags & MFD_HUGETLB) ? MFD_HUGE_BITS : 0)))
        return -EINVAL;
    char name[sizeof(MFD_NAME_PREFIX) + MFD_NAME_MAX];
    memcpy(name, MFD_NAME_PREFIX, sizeof(MFD_NAME_PREFIX) - 1);
    long n = strncpy_from_user(name + sizeof(MFD_NAME_PREFIX) - 1, uname, MFD_NAME_MAX + 1);
    if (n == -ENAMETOOLONG)
        return -EINVAL;
    if (n < 0)
        return n;
    if (!fd_room())
        return -EMFILE;
    if (flags & MFD_HUGETLB)
        return -ENOSYS; /* no hugetlbfs in the enclave: Linux built without it says so */
    struct inode *ino = tmpfs_new_file(S_IFREG | 0777);
    char *kept = ino ? kmalloc((size_t)n + sizeof(MFD_NAME_PREFIX)) : NULL;
    if (!kept) {
        if (ino)
            vfs_drop(ino);
        return -ENOMEM;
    }
    memcpy(kept, name, (size_t)n + sizeof(MFD_NAME_PREFIX));
    ino->anon_name = kept;
    ino->seals = (flags & MFD_ALLOW_SEALING) ? 0 : F_SEAL_SEAL;
    ino->flags |= I_SEALABLE;
    const struct process *me = current_process();
    ino->uid = me->cred.uid[3];
    ino->gid = me->cred.gid[3];
    struct file *f = vfs_open_inode(ino, O_RDWR | O_LARGEFILE);
    if (!f) {
        vfs_drop(ino);
        return -ENOMEM;
    }
    int fd = fd_install(f, 0, flags & MFD_CLOEXEC);
    if (fd < 0)
        file_discard(f);
    return fd;
}

/* Whether some address space maps ino shared and may write to it, now or after mprotect
 * (F_SEAL_WRITE is EBUSY then, as on Linux). */
static bool mapped_writable(const struct inode *ino)
{
    for (const struct process *p = process_list(); p; p = p->all_next) {
        for (uint32_t i = 0; p->mm && i < p->mm->space.n; i++) {
            const struct vma *v = &p->mm->space.v[i];
            if (v->file == ino && vma_kind(v) == VMA_SHARED && !(v->kind & VMA_F_NOWRITE))
                return true; /* writable now, or by mprotect later */
        }
    }
    return false;
}

long memfd_fcntl(struct file *f, int cmd, uint32_t seals)
{
    struct inode *ino = f->inode;
    if (f->flags & O_PATH)
        return -EBADF;
    if (cmd == F_ADD_SEALS && (f->flags & O_ACCMODE) == O_RDONLY)
        return -EPERM; /* sealing needs a file open for writing */
    if (!ino || !S_ISREG(ino->mode) || !vfs_writable(ino))
        return -EINVAL; /* the image's files, like a Linux file system without seals */
    /* a tmpfs file that is not a memfd is sealed against sealing, as on Linux */
    uint32_t have = (ino->flags & I_SEALABLE) ? ino->seals : F_SEAL_SEAL;
    if (cmd == F_GET_SEALS)
        return have;
    if (seals & ~F_SEAL_ALL)
        return -EINVAL;
    if (have & F_SEAL_SEAL)
        return -EPERM;
    if ((seals & F_SEAL_WRITE) && !(have & F_SEAL_WRITE) && mapped_writable(ino))
        return -EBUSY;
    ino->seals |= seals;
    return 0;
}
