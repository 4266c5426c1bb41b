/* mm.c: brk, mmap, munmap, mprotect, mremap, madvise.
 *
 * The application region is mapped 1:1 with 2 MiB pages when the enclave boots, and stays so:
 * on our KVM every page-table change and every first touch of a page traps to the hypervisor,
 * so alcove does not change page tables at run time. "Mapping" memory means owning a range of
 * the region (mm/vma.c); pages are zeroed when they are handed out again. What this does not
 * give: PROT_NONE and read-only protections are recorded and reported, but not enforced, and a
 * stray access to unowned memory inside the region does not fault. docs/memory.md says more.
 */
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

#define MAX_VMAS 4096

/* one bit per page of the application region (physical memory, shared by every address space):
 * set once the page was handed out, so that it is zeroed before it is handed out again */
static uint64_t *g_dirty;

struct mm *mm_current(void)
{
    return current_process()->mm;
}

struct vmspace *mm_space(void)
{
    return &mm_current()->space;
}

void mm_init(uint64_t lo, uint64_t hi, uint64_t stack_size)
{
    struct mm *mm = kzalloc(sizeof(*mm));
    struct vma *storage = kalloc_zeroed(MAX_VMAS * sizeof(struct vma));
    g_dirty = kalloc_zeroed(((hi >> 12) + 63) / 64 * 8);
    if (!mm || !storage || !g_dirty)
        kpanic("out of kernel memory for the address space");
    vms_init(&mm->space, lo, hi, storage, MAX_VMAS);
    if (mmu_space_init(&mm->mmu) || mmu_map(&mm->mmu, lo, lo, hi - lo, PTE_W | PTE_U) ||
        mmu_activate(&mm->mmu))
        kpanic("out of kernel memory for the page tables");
    mm->stack_top = hi;
    mm->stack_bottom = hi - stack_size;
    mm->mmap_top = mm->stack_bottom - PAGE_SIZE; /* leave a gap under the stack */
    current_process()->mm = mm;
    if (mm_map_at(mm->stack_bottom, stack_size, PROT_READ | PROT_WRITE, VMA_STACK))
        kpanic("cannot place the stack");
}

uint64_t mm_stack_bottom(void)
{
    return mm_current()->stack_bottom;
}

uint64_t mm_stack_top(void)
{
    return mm_current()->stack_top;
}

uint64_t mm_total_bytes(void)
{
    return mm_space()->hi - mm_space()->lo;
}

uint64_t mm_used_bytes(void)
{
    return mm_space()->mapped;
}

/* Makes sure the host has backed [start, end) before the application touches it (the monitor
 * backs memory in the background too; see ALC_HC_POPULATE). */
static int ensure_backed(uint64_t start, uint64_t end)
{
    const uint64_t *bits = phys_to_virt(g_boot->populated_gpa);
    uint64_t c = start / ALC_CHUNK_SIZE, last = (end + ALC_CHUNK_SIZE - 1) / ALC_CHUNK_SIZE;
    while (c < last) {
        if ((__atomic_load_n(&bits[c / 64], __ATOMIC_ACQUIRE) >> (c % 64)) & 1) {
            c++;
            continue;
        }
        uint64_t run = c;
        while (run < last &&
               !((__atomic_load_n(&bits[run / 64], __ATOMIC_ACQUIRE) >> (run % 64)) & 1))
            run++;
        int err = hc_populate(c * ALC_CHUNK_SIZE, (run - c) * ALC_CHUNK_SIZE);
        if (err)
            return err;
        c = run;
    }
    return 0;
}

/* Zeroes the pages of [start, end) that were handed out before, and marks all of them. */
static void prepare_pages(uint64_t start, uint64_t end)
{
    uint64_t page = start >> 12, last = end >> 12;
    while (page < last) {
        uint64_t word = g_dirty[page / 64];
        if (word == 0 && page % 64 == 0 && page + 64 <= last) {
            g_dirty[page / 64] = ~0ull;
            page += 64;
            continue;
        }
        uint64_t bit = 1ull << (page % 64);
        if (word & bit) {
            /* zero a run of dirty pages at once */
            uint64_t run = page;
            while (run < last && (g_dirty[run / 64] & (1ull << (run % 64))))
                run++;
            memset(phys_to_virt(page << 12), 0, (run - page) << 12);
            page = run;
        } else {
            g_dirty[page / 64] |= bit;
            page++;
        }
    }
}

int mm_map_at(uint64_t start, uint64_t len, uint32_t prot, uint32_t kind)
{
    struct vmspace *vs = mm_space();
    if (!vms_is_free(vs, start, start + len))
        return -ENOMEM;
    int err = ensure_backed(start, start + len);
    if (err)
        return err;
    err = vms_insert(vs, start, start + len, prot, kind);
    if (err)
        return err == -EINVAL ? -ENOMEM : err;
    prepare_pages(start, start + len);
    return 0;
}

int mm_map_anywhere(uint64_t len, uint64_t align, uint64_t hint, uint32_t prot, uint32_t kind,
                    uint64_t *out)
{
    uint64_t at;
    struct vmspace *vs = mm_space();
    if (hint && !(hint & (align - 1)) && hint + len > hint && vms_is_free(vs, hint, hint + len))
        at = hint;
    else if (vms_find_free_below(vs, len, align, mm_current()->mmap_top, &at))
        return -ENOMEM;
    int err = mm_map_at(at, len, prot, kind);
    if (!err)
        *out = at;
    return err;
}

void mm_unmap_kernel(uint64_t start, uint64_t len)
{
    KASSERT(vms_remove(mm_space(), start, start + len) == 0);
}

/* Removes the application's ranges in [start, end), leaving the kernel's alone. */
static int unmap_user(uint64_t start, uint64_t end)
{
    struct vmspace *vs = mm_space();
    if (!vms_overlaps_kind(vs, start, end, VMA_KERNEL))
        return vms_remove(vs, start, end);
    uint64_t at = start;
    const struct vma *v;
    while (at < end && (v = vms_next(vs, at)) && v->start < end) {
        uint64_t from = MAX(at, v->start), stop = MIN(end, v->end);
        if (v->kind != VMA_KERNEL) {
            int err = vms_remove(vs, from, stop);
            if (err)
                return err;
        }
        at = stop;
    }
    return 0;
}

void mm_set_brk_base(uint64_t base)
{
    mm_current()->brk_base = mm_current()->brk_cur = base;
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
        if (new_end > mm->space.hi ||
            mm_map_at(cur_end, new_end - cur_end, PROT_READ | PROT_WRITE, VMA_HEAP))
            return (long)mm->brk_cur;
    } else if (new_end < cur_end) {
        if (vms_remove(&mm->space, new_end, cur_end))
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
            if (vms_overlaps_kind(vs, addr, end, VMA_KERNEL))
                return -ENOMEM; /* the enclave kernel's memory is not the application's */
            if (vms_remove(vs, addr, end))
                return -ENOMEM;
        }
        int err = mm_map_at(addr, size, prot, VMA_ANON);
        if (err)
            return err;
        at = addr;
    } else {
        int err = mm_map_anywhere(size, PAGE_SIZE, PAGE_DOWN(addr), prot, VMA_ANON, &at);
        if (err)
            return err;
    }
    if (src)
        inode_read(src, (void *)at, len, off); /* a private copy of the file's bytes */
    return (long)at;
}

SYSCALL_DEFINE2(munmap, uint64_t, addr, uint64_t, len)
{
    uint64_t end;
    if ((addr & (PAGE_SIZE - 1)) || len == 0 || __builtin_add_overflow(addr, PAGE_UP(len), &end))
        return -EINVAL;
    if (end > 0x0000800000000000ull)
        return -EINVAL;
    return unmap_user(addr, end);
}

SYSCALL_DEFINE3(mprotect, uint64_t, addr, uint64_t, len, uint32_t, prot)
{
    struct vmspace *vs = mm_space();
    uint64_t end;
    if ((addr & (PAGE_SIZE - 1)) || (prot & ~(PROT_KNOWN | 0x01000000 | 0x02000000)))
        return -EINVAL; /* PROT_GROWSDOWN/PROT_GROWSUP are accepted and ignored */
    if (len == 0)
        return 0;
    if (__builtin_add_overflow(addr, PAGE_UP(len), &end))
        return -ENOMEM;
    if (vms_overlaps_kind(vs, addr, end, VMA_KERNEL))
        return -ENOMEM;
    return vms_protect(vs, addr, end, prot & PROT_KNOWN);
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
    if (!v || old + old_size > v->end || v->kind == VMA_KERNEL)
        return -EFAULT;
    uint32_t prot = v->prot, kind = v->kind == VMA_STACK ? VMA_ANON : v->kind;

    if (!(flags & MREMAP_FIXED)) {
        if (new_size <= old_size) {
            vms_remove(vs, old + new_size, old + old_size);
            return (long)old;
        }
        if (vms_is_free(vs, old + old_size, old + new_size)) {
            int err = mm_map_at(old + old_size, new_size - old_size, prot, kind);
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
            vms_overlaps_kind(vs, new_addr, new_addr + new_size, VMA_KERNEL))
            return -ENOMEM;
        vms_remove(vs, new_addr, new_addr + new_size);
        if (mm_map_at(new_addr, new_size, prot, kind))
            return -ENOMEM;
        dst = new_addr;
    } else if (mm_map_anywhere(new_size, PAGE_SIZE, 0, prot, kind, &dst)) {
        return -ENOMEM;
    }
    memcpy((void *)dst, (const void *)old, MIN(old_size, new_size));
    vms_remove(vs, old, old + old_size);
    return (long)dst;
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
        memset((void *)addr, 0, end - addr); /* private anonymous memory reads back as zeros */
    }
    return 0;
}
