/* mm.c: brk, mmap, munmap, mprotect, mremap, madvise, mincore, msync, mlock: the system calls
 * on a process's address space (mm/mm.c; docs/memory.md says more). */
#include "kernel.h"
#include "klib.h"
#include "file.h"
#include "mm.h"
#include "process.h"
#include "syscall.h"
#include "vfs.h"

/* MAP_SHARED writable mappings of tmpfs files are private copies: said once. */
static void klog_once_shared_mapping(void)
{
    static bool said;
    if (!said) {
        said = true;
        klog(ALC_LOG_WARN, "a shared writable file mapping is a private copy in alcove: "
                           "writes through it do not reach the file");
    }
}

/* ---- syscalls ---- */

#define PROT_KNOWN (PROT_READ | PROT_WRITE | PROT_EXEC)

SYSCALL_DEFINE1(brk, uint64_t, addr)
{
    struct mm *mm = mm_current();
    if (addr < mm->brk_base)
        return (long)mm->brk_cur;
    uint64_t cur_end = PAGE_UP(mm->brk_cur), new_end = PAGE_UP(addr);
    if (new_end > cur_end) {
        if (new_end > mm->space.hi || new_end - mm->brk_base > mm_total_bytes() ||
            mm_map_at(cur_end, new_end - cur_end, PROT_READ | PROT_WRITE, VMA_HEAP))
            return (long)mm->brk_cur;
    } else if (new_end < cur_end) {
        if (mm_unmap(new_end, cur_end))
            return (long)mm->brk_cur;
    }
    mm->brk_cur = addr;
    return (long)mm->brk_cur;
}

/* What a file descriptor maps as: 0 and *src (the file to copy from), 1 for anonymous memory
 * (/dev/zero), or -errno. */
static int mappable(int fd, uint32_t prot, uint32_t type, struct inode **src)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if ((f->flags & O_PATH) || (f->flags & O_ACCMODE) == O_WRONLY)
        return -EACCES;
    if (type != MAP_PRIVATE && (prot & PROT_WRITE) && (f->flags & O_ACCMODE) != O_RDWR)
        return -EACCES;
    struct inode *ino = f->inode;
    if (!ino)
        return -ENODEV; /* pipes, the console, eventfds */
    if (S_ISCHR(ino->mode) && ino->arg == DEVNUM_ZERO)
        return 1;
    if (!S_ISREG(ino->mode) || ino->iops)
        return -ENODEV;
    if (type != MAP_PRIVATE && (prot & PROT_WRITE) && vfs_writable(ino))
        klog_once_shared_mapping();
    *src = ino;
    vfs_touch(ino, T_ATIME);
    return 0;
}

SYSCALL_DEFINE6(mmap, uint64_t, addr, uint64_t, len, uint32_t, prot, uint32_t, flags, int, fd,
                uint64_t, off)
{
    struct vmspace *vs = mm_space();
    uint32_t type = flags & MAP_TYPE;
    if (len == 0 || (off & (PAGE_SIZE - 1)) || (prot & ~PROT_KNOWN))
        return -EINVAL;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    struct inode *src = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        int m = mappable(fd, prot, type, &src);
        if (m < 0)
            return m;
    }
    uint64_t size = PAGE_UP(len);
    if (size < len)
        return -ENOMEM;
    /* MAP_SHARED: shared with the children forked later (a file's pages are a copy of it) */
    uint32_t kind = type == MAP_PRIVATE ? VMA_ANON : VMA_SHARED;

    /* memory is committed when touched, but one mapping larger than all of it cannot work */
    if (prot != PROT_NONE && size > mm_total_bytes())
        return -ENOMEM;

    uint64_t at;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        uint64_t end;
        if (addr & (PAGE_SIZE - 1))
            return -EINVAL;
        if (__builtin_add_overflow(addr, size, &end) || addr < vs->lo || end > vs->hi)
            return -ENOMEM;
        if (!vms_is_free(vs, addr, end)) {
            if (flags & MAP_FIXED_NOREPLACE)
                return -EEXIST;
            if (mm_unmap(addr, end))
                return -ENOMEM;
        }
        int err = mm_map_at(addr, size, prot, kind);
        if (err)
            return err;
        at = addr;
    } else {
        int err = mm_map_anywhere(size, PAGE_SIZE, PAGE_DOWN(addr), prot, kind, &at);
        if (err)
            return err;
    }
    if (src) {
        /* a private copy of the file's bytes, written whatever the protection (a PROT_NONE
         * mapping of a file gets none: it reads as zeros if it is made accessible later) */
        for (uint64_t done = 0; done < len && prot != PROT_NONE;) {
            size_t n = (size_t)MIN(len - done, PAGE_SIZE);
            void *p = mm_alias(at + done, n);
            if (!p) {
                mm_unmap(at, at + size);
                return -ENOMEM;
            }
            if (inode_read(src, p, n, off + done) <= 0)
                break; /* past the end of the file: zeros */
            done += n;
        }
    }
    if (kind == VMA_SHARED && prot != PROT_NONE) {
        /* every page now, so that a fork's child maps the same frames (a page first touched
         * after the fork would be each process's own) */
        if (mm_populate(at, at + size)) {
            mm_unmap(at, at + size);
            return -ENOMEM;
        }
    } else if ((flags & MAP_POPULATE) && prot != PROT_NONE) {
        mm_populate(at, at + size); /* best effort, as on Linux */
    }
    return (long)at;
}

SYSCALL_DEFINE2(munmap, uint64_t, addr, uint64_t, len)
{
    uint64_t end;
    if ((addr & (PAGE_SIZE - 1)) || len == 0 || __builtin_add_overflow(addr, PAGE_UP(len), &end))
        return -EINVAL;
    if (end > 0x0000800000000000ull)
        return -EINVAL;
    return mm_unmap(addr, end);
}

SYSCALL_DEFINE3(mprotect, uint64_t, addr, uint64_t, len, uint32_t, prot)
{
    uint64_t end;
    if ((addr & (PAGE_SIZE - 1)) || (prot & ~(PROT_KNOWN | 0x01000000 | 0x02000000)))
        return -EINVAL; /* PROT_GROWSDOWN/PROT_GROWSUP are accepted and ignored */
    if (len == 0)
        return 0;
    if (__builtin_add_overflow(addr, PAGE_UP(len), &end))
        return -ENOMEM;
    return mm_protect(addr, end, prot & PROT_KNOWN);
}

SYSCALL_DEFINE5(mremap, uint64_t, old, uint64_t, old_size, uint64_t, new_size, uint32_t, flags,
                uint64_t, new_addr)
{
    struct vmspace *vs = mm_space();
    if ((old & (PAGE_SIZE - 1)) || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)))
        return -EINVAL;
    if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
        return -EINVAL;
    if (flags & MREMAP_DONTUNMAP)
        return -EINVAL; /* not supported for now */
    old_size = PAGE_UP(old_size);
    new_size = PAGE_UP(new_size);
    if (new_size == 0 || old_size == 0)
        return -EINVAL;
    const struct vma *v = vms_lookup(vs, old);
    if (!v || old + old_size > v->end)
        return -EFAULT;
    uint32_t prot = v->prot, kind = v->kind == VMA_STACK ? VMA_ANON : v->kind;

    if (!(flags & MREMAP_FIXED)) {
        if (new_size <= old_size) {
            int err = new_size < old_size ? mm_unmap(old + new_size, old + old_size) : 0;
            return err ? err : (long)old;
        }
        if (vms_is_free(vs, old + old_size, old + new_size)) {
            int err = mm_map_at(old + old_size, new_size - old_size, prot, kind);
            if (!err && kind == VMA_SHARED && prot != PROT_NONE &&
                mm_populate(old + old_size, old + new_size)) {
                mm_unmap(old + old_size, old + new_size);
                err = -ENOMEM;
            }
            return err ? err : (long)old;
        }
        if (!(flags & MREMAP_MAYMOVE))
            return -ENOMEM;
    }

    uint64_t dst;
    if (flags & MREMAP_FIXED) {
        if ((new_addr & (PAGE_SIZE - 1)) ||
            (new_addr < old + old_size && old < new_addr + new_size))
            return -EINVAL;
        if (new_addr < vs->lo || new_addr + new_size > vs->hi ||
            mm_unmap(new_addr, new_addr + new_size) || mm_map_at(new_addr, new_size, prot, kind))
            return -ENOMEM;
        dst = new_addr;
    } else if (mm_map_anywhere(new_size, PAGE_SIZE, 0, prot, kind, &dst)) {
        return -ENOMEM;
    }
    /* the pages move, not their bytes (the rest of a grown MAP_SHARED mapping gets its own) */
    int err = mm_move(old, dst, MIN(old_size, new_size));
    if (!err && kind == VMA_SHARED && prot != PROT_NONE && new_size > old_size)
        err = mm_populate(dst + old_size, dst + new_size);
    if (!err)
        err = mm_unmap(old, old + old_size);
    return err ? err : (long)dst;
}

SYSCALL_DEFINE3(madvise, uint64_t, addr, uint64_t, len, int, advice)
{
    struct vmspace *vs = mm_space();
    if ((addr & (PAGE_SIZE - 1)) || advice < 0)
        return -EINVAL;
    uint64_t end = addr + PAGE_UP(len);
    if (end < addr)
        return -EINVAL;
    if (advice == MADV_DONTNEED || advice == MADV_FREE) {
        if (!vms_accessible(vs, addr, end - addr, 0))
            return -ENOMEM;
        if (vms_overlaps_kind(vs, addr, end, VMA_SHARED))
            return 0; /* shared memory keeps its bytes (Linux reads them back from the object) */
        return mm_discard(addr, end); /* private anonymous memory reads back as zeros */
    }
    return 0;
}

/* [addr, addr + len) rounded out to pages, which must all be mapped (any protection): 0 and
 * *start, *end, -EINVAL (addr not page aligned when it must be, or wrapping) or -ENOMEM. */
static int mapped_range(uint64_t addr, uint64_t len, bool aligned, uint64_t *start, uint64_t *end)
{
    if (aligned && (addr & (PAGE_SIZE - 1)))
        return -EINVAL;
    *start = PAGE_DOWN(addr);
    if (__builtin_add_overflow(addr, len, end) || *end > PAGE_DOWN(~0ull))
        return -EINVAL;
    *end = PAGE_UP(*end);
    if (!vms_accessible(mm_space(), *start, *end - *start, 0))
        return -ENOMEM;
    return 0;
}

/* Mappings are private copies (docs/memory.md): there is nothing to write back. */
SYSCALL_DEFINE3(msync, uint64_t, addr, uint64_t, len, int, flags)
{
    uint64_t start, end;
    if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -EINVAL;
    return mapped_range(addr, len, true, &start, &end);
}

/* Which pages have a frame (1) and which would be filled when touched (0). */
SYSCALL_DEFINE3(mincore, uint64_t, addr, uint64_t, len, uint64_t, uvec)
{
    uint64_t start, end;
    int err = mapped_range(addr, len, true, &start, &end);
    if (err)
        return err;
    struct mm *mm = mm_current();
    uint8_t buf[256];
    for (uint64_t at = start; at < end;) {
        size_t n = 0;
        for (; n < sizeof(buf) && at < end; n++, at += PAGE_SIZE)
            buf[n] = mmu_lookup(&mm->mmu, at, NULL, NULL, NULL) == 0;
        if (copy_to_user(uvec, buf, n))
            return -EFAULT;
        uvec += n;
    }
    return 0;
}

/* Nothing is ever paged out of an enclave: locking memory means giving it its frames now. */
static long lock_range(uint64_t addr, uint64_t len)
{
    uint64_t start, end;
    int err = mapped_range(addr, len, false, &start, &end);
    if (err)
        return err;
    const struct vma *v;
    for (uint64_t at = start; at < end && (v = vms_next(mm_space(), at)); at = v->end) {
        if (v->prot != PROT_NONE && mm_populate(MAX(at, v->start), MIN(end, v->end)))
            return -ENOMEM;
    }
    return 0;
}

SYSCALL_DEFINE2(mlock, uint64_t, addr, uint64_t, len)
{
    return lock_range(addr, len);
}

SYSCALL_DEFINE3(mlock2, uint64_t, addr, uint64_t, len, uint32_t, flags)
{
    if (flags & ~MLOCK_ONFAULT)
        return -EINVAL;
    if (flags & MLOCK_ONFAULT) {
        uint64_t start, end;
        return mapped_range(addr, len, false, &start, &end); /* frames come when touched */
    }
    return lock_range(addr, len);
}

SYSCALL_DEFINE2(munlock, uint64_t, addr, uint64_t, len)
{
    uint64_t start, end;
    return mapped_range(addr, len, false, &start, &end);
}

SYSCALL_DEFINE1(mlockall, int, flags)
{
    if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
        return -EINVAL;
    if (!(flags & MCL_CURRENT) || (flags & MCL_ONFAULT))
        return 0;
    const struct vmspace *vs = mm_space();
    for (uint32_t i = 0; i < vs->n; i++)
        if (vs->v[i].prot != PROT_NONE && mm_populate(vs->v[i].start, vs->v[i].end))
            return -ENOMEM;
    return 0;
}

SYSCALL_DEFINE0(munlockall)
{
    return 0;
}
