/* mm.c: brk, mmap, munmap, mprotect, mremap, madvise, mincore, msync, mlock: the system calls
 * on a process's address space (mm/mm.c; docs/memory.md says more). */
#include "kernel.h"
#include "klib.h"
#include "file.h"
#include "mm.h"
#include "process.h"
#include "syscall.h"
#include "vdso.h"
#include "vfs.h"

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
 * (/dev/zero), or -errno. *flags gets the mapping's VMA_F_* flags. */
static int mappable(int fd, uint32_t prot, uint32_t type, struct inode **src, uint32_t *flags)
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
    if (type != MAP_PRIVATE && (f->flags & O_ACCMODE) != O_RDWR)
        *flags |= VMA_F_NOWRITE; /* mprotect cannot make it writable either */
    if (type != MAP_PRIVATE && ino && (ino->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) {
        if (prot & PROT_WRITE)
            return -EPERM; /* a memfd sealed against writing */
        *flags |= VMA_F_NOWRITE;
    }
    if (S_ISCHR(ino->mode) && ino->arg == DEVNUM_ZERO)
        return 1;
    if (!S_ISREG(ino->mode) || ino->iops)
        return -ENODEV;
    *flags |= VMA_F_FILE;
    *src = ino;
    vfs_touch(ino, T_ATIME);
    return 0;
}

/* The flags MAP_SHARED_VALIDATE accepts (Linux's LEGACY_MAP_MASK, less MAP_SYNC: no DAX here).
 */
#define MAP_VALID_FLAGS                                                                            \
    (MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | 0x100 /* MAP_GROWSDOWN */ | 0x800 /* DENYWRITE */ |    \
     0x1000 /* MAP_EXECUTABLE */ | 0x2000 /* MAP_LOCKED */ | MAP_NORESERVE | MAP_POPULATE |        \
     0x10000 /* MAP_NONBLOCK */ | MAP_STACK | MAP_HUGETLB | MAP_FIXED_NOREPLACE |                  \
     0x4000000 /* MAP_UNINITIALIZED */)

/* A new mapping at at: of file from offset off, or anonymous (file NULL). */
static int place(uint64_t at, uint64_t size, uint32_t prot, uint32_t kind, struct inode *file,
                 uint64_t off)
{
    return file ? mm_map_file(at, size, prot, kind, file, off) : mm_map_at(at, size, prot, kind);
}

static int place_anywhere(uint64_t size, uint64_t hint, uint32_t prot, uint32_t kind,
                          struct inode *file, uint64_t off, uint64_t *out)
{
    int err = mm_find_free(size, PAGE_SIZE, hint, out);
    return err ? err : place(*out, size, prot, kind, file, off);
}

/* A MAP_SHARED mapping of a writable file maps the file's own pages (tmpfs_page) when they are
 * touched; every other shared mapping gets its frames at once, so that a fork's child maps the
 * same ones (a page first touched after the fork would be each process's own). */
static bool shares_file_pages(uint32_t kind, const struct inode *file)
{
    return (kind & VMA_KIND_MASK) == VMA_SHARED && file && vfs_writable(file);
}

SYSCALL_DEFINE6(mmap, uint64_t, addr, uint64_t, len, uint32_t, prot, uint32_t, flags, int, fd,
                uint64_t, off)
{
    struct vmspace *vs = mm_space();
    uint32_t type = flags & MAP_TYPE;
    if (!(flags & MAP_ANONYMOUS) && !fd_get(fd))
        return -EBADF; /* first, as on Linux */
    if (len == 0 || (off & (PAGE_SIZE - 1)) || (prot & ~PROT_KNOWN))
        return -EINVAL;
    uint64_t off_end;
    if (!(flags & MAP_ANONYMOUS) && __builtin_add_overflow(off, PAGE_UP(len), &off_end))
        return -EOVERFLOW;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    if (type == MAP_SHARED_VALIDATE && !(flags & MAP_ANONYMOUS) &&
        (flags & ~(uint32_t)MAP_VALID_FLAGS))
        return -EOPNOTSUPP;
    struct inode *src = NULL;
    uint32_t vflags = (flags & MAP_LOCKED) ? VMA_F_LOCKED : 0;
    if (!(flags & MAP_ANONYMOUS)) {
        int m = mappable(fd, prot, type, &src, &vflags);
        if (m < 0)
            return m;
    }
    if (flags & MAP_GROWSDOWN) {
        if (type != MAP_PRIVATE || !(flags & MAP_ANONYMOUS))
            return -EINVAL; /* Linux: shared memory and files do not grow */
        vflags |= VMA_F_GROWSDOWN;
    }
    uint64_t size = PAGE_UP(len);
    if (size < len)
        return -ENOMEM;
    /* MAP_SHARED: shared with the children forked later, and a writable file's pages with the
     * file (the image's files: see below) */
    uint32_t kind = (type == MAP_PRIVATE ? VMA_ANON : VMA_SHARED) | vflags;

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
        int err = place(addr, size, prot, kind, src, off);
        if (err)
            return err;
        at = addr;
    } else {
        int err = place_anywhere(size, PAGE_DOWN(addr), prot, kind, src, off, &at);
        if (err)
            return err;
    }
    if (shares_file_pages(kind, src))
        return (long)at; /* its pages are the file's, mapped when touched */
    if (src && vfs_immutable(src)) {
        /* an image file's pages are its own frames, or copies of them, made when touched
         * (mm/mm.c): nothing to copy now, and a fork's child shares them either way */
        if ((flags & (MAP_POPULATE | MAP_LOCKED)) && prot != PROT_NONE)
            mm_populate(at, at + MIN(size, off >= src->size ? 0 : PAGE_UP(src->size - off)));
        return (long)at;
    }
    /* the pages within the file (its size rounded up to a page); the ones past it stay
     * unmapped, and touching them is SIGBUS */
    uint64_t fill = size;
    if (src)
        fill = off >= src->size ? 0 : MIN(size, PAGE_UP(src->size - off));
    if (src) {
        /* a private copy of the file's bytes, written whatever the protection (a PROT_NONE
         * mapping of a file gets none: it reads as zeros if it is made accessible later) */
        for (uint64_t done = 0; done < fill && prot != PROT_NONE;) {
            size_t n = (size_t)MIN(fill - done, PAGE_SIZE);
            void *p = mm_alias(at + done, n);
            if (!p) {
                mm_unmap(at, at + size);
                return -ENOMEM;
            }
            if (inode_read(src, p, n, off + done) <= 0)
                break;
            done += n;
        }
    }
    if ((kind & VMA_KIND_MASK) == VMA_SHARED && prot != PROT_NONE) {
        /* every page now, so that a fork's child maps the same frames (a page first touched
         * after the fork would be each process's own) */
        if (fill && mm_populate(at, at + fill)) {
            mm_unmap(at, at + size);
            return -ENOMEM;
        }
    } else if ((flags & (MAP_POPULATE | MAP_LOCKED)) && prot != PROT_NONE && fill) {
        mm_populate(at, at + fill); /* best effort, as on Linux */
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
    if ((prot & PROT_WRITE) && vms_any_flag(mm_space(), addr, end, VMA_F_NOWRITE))
        return -EACCES;
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
    uint32_t prot = v->prot;
    uint32_t kind = vma_kind(v) == VMA_STACK ? (v->kind & ~VMA_KIND_MASK) | VMA_ANON : v->kind;
    struct inode *file = v->file;
    uint64_t foff = v->off + (old - v->start);
    bool shared = vma_kind(v) == VMA_SHARED && !shares_file_pages(kind, file);

    if (!(flags & MREMAP_FIXED)) {
        if (new_size <= old_size) {
            int err = new_size < old_size ? mm_unmap(old + new_size, old + old_size) : 0;
            return err ? err : (long)old;
        }
        if (vms_is_free(vs, old + old_size, old + new_size)) {
            int err = place(old + old_size, new_size - old_size, prot, kind, file, foff + old_size);
            if (!err && shared && prot != PROT_NONE &&
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
            mm_unmap(new_addr, new_addr + new_size) ||
            place(new_addr, new_size, prot, kind, file, foff))
            return -ENOMEM;
        dst = new_addr;
    } else if (place_anywhere(new_size, 0, prot, kind, file, foff, &dst)) {
        return -ENOMEM;
    }
    /* the pages move, not their bytes (the rest of a grown MAP_SHARED mapping gets its own) */
    uint64_t vdso = mm_current()->vdso_base, moved = MIN(old_size, new_size);
    int err = mm_move(old, dst, moved);
    if (!err && shared && prot != PROT_NONE && new_size > old_size)
        err = mm_populate(dst + old_size, dst + new_size);
    if (!err)
        err = mm_unmap(old, old + old_size);
    if (!err && vdso >= old && vdso < old + moved)
        mm_current()->vdso_base = dst + (vdso - old); /* the vDSO moved (as CRIU moves it) */
    return err ? err : (long)dst;
}

/* The advice Linux 6.1 knows, without the kernel options an enclave has no use for (KSM's
 * MADV_MERGEABLE and MADV_UNMERGEABLE, memory-failure injection): those are EINVAL, as there. */
static bool advice_known(int advice)
{
    return (advice >= MADV_NORMAL && advice <= MADV_DONTNEED) ||
           (advice >= MADV_FREE && advice <= 25 && advice != 12 && advice != 13);
}

/* MADV_REMOVE: the shared memory behind [start, end) reads as zeros from now on, in every
 * mapping of it; a tmpfs file's bytes there become zeros (clipped at its end), as Linux's hole
 * punch makes them. The memory stays the file's or the mapping's (Linux frees it). */
static long remove_shared(uint64_t start, uint64_t end)
{
    struct mm *mm = mm_current();
    const struct vma *v;
    for (uint64_t at = start; at < end && (v = vms_next(&mm->space, at)); at = v->end) {
        uint64_t from = MAX(at, v->start), to = MIN(end, v->end);
        if (vma_kind(v) != VMA_SHARED)
            return -EINVAL;
        if (v->file) {
            int err = tmpfs_punch(v->file, v->off + (from - v->start), to - from);
            if (err)
                return err;
            continue;
        }
        for (uint64_t va = from; va < to; va += PAGE_SIZE) {
            uint64_t pa;
            if (mmu_lookup(&mm->mmu, va, &pa, NULL, NULL) == 0)
                memset(phys_to_virt(pa), 0, PAGE_SIZE); /* a shared frame: every mapping's */
        }
    }
    return 0;
}

SYSCALL_DEFINE3(madvise, uint64_t, addr, uint64_t, len, int, advice)
{
    struct vmspace *vs = mm_space();
    if (!advice_known(advice) || (addr & (PAGE_SIZE - 1)))
        return -EINVAL;
    uint64_t end = addr + PAGE_UP(len);
    if (end < addr)
        return -EINVAL;
    if (end == addr)
        return 0;
    if (!vms_accessible(vs, addr, end - addr, 0))
        return -ENOMEM;
    bool shared = vms_overlaps_kind(vs, addr, end, VMA_SHARED);
    bool file = vms_any_flag(vs, addr, end, VMA_F_FILE);
    switch (advice) {
    case MADV_DONTNEED:
    case MADV_FREE:
        if (vms_any_flag(vs, addr, end, VMA_F_LOCKED) || (advice == MADV_FREE && (shared || file)))
            return -EINVAL;
        if (shared)
            return 0; /* shared memory keeps its bytes (Linux reads them back from the object) */
        if (vms_any_flag(vs, addr, end, VMA_F_VDSO)) {
            int err = mm_discard(addr, end);
            return err ? err : vdso_restore(addr, end); /* as Linux refaults the vDSO's pages */
        }
        return mm_discard(addr, end); /* private anonymous memory reads back as zeros */
    case MADV_REMOVE:
        if (!shared || vms_any_flag(vs, addr, end, VMA_F_LOCKED))
            return -EINVAL;
        if (vms_any_flag(vs, addr, end, VMA_F_NOWRITE))
            return -EACCES;
        return remove_shared(addr, end);
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
        if (shared || file || vms_any_flag(vs, addr, end, VMA_F_VDSO))
            return -EINVAL;
        return mm_set_flags(addr, end, advice == MADV_WIPEONFORK ? VMA_F_WIPEONFORK : 0,
                            advice == MADV_KEEPONFORK ? VMA_F_WIPEONFORK : 0);
    }
    return 0;
}

/* [addr, addr + len) rounded out to pages, which must all be mapped (any protection): 0 and
 * *start, *end, -EINVAL (addr not page aligned when it must be), -ENOMEM, or for a range that
 * wraps -ENOMEM when addr must be aligned (msync, mincore), else -EINVAL (mlock): Linux's
 * answers. */
static int mapped_range(uint64_t addr, uint64_t len, bool aligned, uint64_t *start, uint64_t *end)
{
    if (aligned && (addr & (PAGE_SIZE - 1)))
        return -EINVAL;
    *start = PAGE_DOWN(addr);
    if (__builtin_add_overflow(addr, len, end) || *end > PAGE_DOWN(~0ull))
        return aligned ? -ENOMEM : -EINVAL;
    *end = PAGE_UP(*end);
    if (!vms_accessible(mm_space(), *start, *end - *start, 0))
        return -ENOMEM;
    return 0;
}

/* A shared mapping is the file's pages and memory is all there is (docs/memory.md): there is
 * nothing to write back. */
SYSCALL_DEFINE3(msync, uint64_t, addr, uint64_t, len, int, flags)
{
    uint64_t start, end;
    if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -EINVAL;
    int err = mapped_range(addr, len, true, &start, &end);
    if (!err && (flags & MS_INVALIDATE) && vms_any_flag(mm_space(), start, end, VMA_F_LOCKED))
        return -EBUSY; /* locked pages cannot be invalidated */
    return err;
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

/* Pages a lock gives frames to now; a mapped file's pages past its end stay as they are. */
static int populate_locked(uint64_t start, uint64_t end)
{
    int err = mm_populate(start, end);
    return err == -ENXIO ? 0 : err;
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
        if (v->prot != PROT_NONE && populate_locked(MAX(at, v->start), MIN(end, v->end)))
            return -ENOMEM;
    }
    return mm_set_flags(start, end, VMA_F_LOCKED, 0);
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
        uint64_t start, end; /* frames come when touched */
        int err = mapped_range(addr, len, false, &start, &end);
        return err ? err : mm_set_flags(start, end, VMA_F_LOCKED, 0);
    }
    return lock_range(addr, len);
}

SYSCALL_DEFINE2(munlock, uint64_t, addr, uint64_t, len)
{
    uint64_t start, end;
    int err = mapped_range(addr, len, false, &start, &end);
    return err ? err : mm_set_flags(start, end, 0, VMA_F_LOCKED);
}

SYSCALL_DEFINE1(mlockall, int, flags)
{
    if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
        return -EINVAL;
    if (!(flags & MCL_CURRENT) || (flags & MCL_ONFAULT))
        return 0;
    struct vmspace *vs = mm_space();
    for (uint32_t i = 0; i < vs->n; i++)
        if (vs->v[i].prot != PROT_NONE && populate_locked(vs->v[i].start, vs->v[i].end))
            return -ENOMEM;
    for (uint32_t i = 0; i < vs->n; i++)
        vs->v[i].kind |= VMA_F_LOCKED; /* every range: the table's shape does not change */
    return 0;
}

SYSCALL_DEFINE0(munlockall)
{
    struct vmspace *vs = mm_space();
    for (uint32_t i = 0; i < vs->n; i++)
        vs->v[i].kind &= ~VMA_F_LOCKED;
    return 0;
}
