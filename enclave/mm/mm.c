/* mm.c: address spaces over the application region's frames (see mm.h and docs/memory.md).
 *
 * A mapping is a range of a process's virtual address space with a protection (mm/vma.c); its
 * pages get frames (mm/frame.c) when first touched: by the application (a page fault,
 * mm_fault), or by the kernel on its behalf (mm_populate, which every checked access to user
 * memory calls). A touch maps a whole 2 MiB page where the mapping covers the aligned 2 MiB
 * around it and memory is not short, and otherwise the 4 KiB pages of the aligned 64 KiB around
 * it: on our KVM each fault and each page-table write traps, so few and large is the rule.
 * Untouched PROT_NONE pages get no frame (a reservation costs nothing), read-only pages are
 * mapped without write permission and pages without PROT_EXEC with the no-execute bit: the MMU
 * enforces every protection.
 */
#include "mm.h"

#include "frame.h"
#include "mm_internal.h"
#include "kernel.h"
#include "klib.h"
#include "process.h"
#include "sysvipc.h"
#include "vfs.h"

#define MAX_VMAS  4096        /* mappings a process may have */
#define VMAS_NEW  64          /* the table a new address space starts with; it doubles when full */
#define AROUND    (64u << 10) /* a 4 KiB fault maps this much around it */
#define STACK_TOP 0x7fffffe00000ull /* 2 MiB aligned, like the last page Linux leaves free */
#define STACK_GAP (256ull << 20)    /* between the stack and the mappings below it */
#define HUGE      FRAME_CHUNK
/* frames the application cannot take: the kernel's own allocations (page tables, threads,
 * buffers) must not fail because a program filled the memory */
#define KERNEL_RESERVE FRAMES_PER_CHUNK

struct frames g_frames; /* mm_internal.h */

/* counters for --log-level debug (mm_log_stats) */
static struct {
    uint64_t faults, faults_mapped, fork_copied, fork_shared;
} g_stats;

void mm_log_stats(void)
{
    klog(ALC_LOG_DEBUG,
         "memory: %lu page faults, %lu at unmapped pages; fork: %lu KiB copied, %lu KiB shared",
         g_stats.faults, g_stats.faults_mapped, g_stats.fork_copied >> 10,
         g_stats.fork_shared >> 10);
    mmu_log_stats();
}

/* ---- frames ---- */

/* Makes sure the host has backed [pa, pa + len) (ALC_HC_POPULATE; the monitor backs memory in
 * the background too). */
static int ensure_backed(uint64_t pa, uint64_t len)
{
    const uint64_t *bits = phys_to_virt(g_boot->populated_gpa);
    uint64_t c = pa / ALC_CHUNK_SIZE, last = (pa + len + ALC_CHUNK_SIZE - 1) / ALC_CHUNK_SIZE;
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

static void zero_frames(void *ctx, uint64_t pa, uint64_t len)
{
    (void)ctx;
    memset(phys_to_virt(pa), 0, len);
}

static void no_zero(void *ctx, uint64_t pa, uint64_t len)
{
    (void)ctx, (void)pa, (void)len;
}

/* Frames just taken: backed, and zeroed where they were used before (zero) or only marked as
 * used (the kernel's, which it fills itself). */
int mm_prepare(uint64_t pa, uint64_t len, bool zero)
{
    if (ensure_backed(pa, len)) {
        frames_free(&g_frames, pa, len / FRAME_SIZE);
        return -ENOMEM;
    }
    frames_clean(&g_frames, pa, len / FRAME_SIZE, zero ? zero_frames : no_zero, NULL);
    return 0;
}

/* True when the application may take n more frames now. */
bool mm_has_room(uint64_t n)
{
    return g_frames.nfree >= n + KERNEL_RESERVE;
}

/* The same, after giving back the image's unused frames when there is no room. */
bool mm_may_take(uint64_t n)
{
    if (mm_has_room(n))
        return true;
    image_reclaim();
    return mm_has_room(n);
}

int kframes_alloc(uint64_t len, uint64_t *pa)
{
    if (frames_alloc_run(&g_frames, len / FRAME_SIZE, pa)) {
        image_reclaim(); /* the image's frames no mapping holds, then once more */
        if (frames_alloc_run(&g_frames, len / FRAME_SIZE, pa))
            return -ENOMEM;
    }
    return mm_prepare(*pa, len, false);
}

void kframes_free(uint64_t pa, uint64_t len)
{
    frames_free(&g_frames, pa, len / FRAME_SIZE);
}

void *kpages_alloc(uint64_t len)
{
    uint64_t pa;
    return kframes_alloc(len, &pa) ? NULL : phys_to_virt(pa);
}

void kpages_free(void *p, uint64_t len)
{
    kframes_free(virt_to_phys(p), len);
}

/* mmu_unmap's release: the frames of a mapping that went away. */
void mm_release_frames(void *ctx, uint64_t pa, uint64_t len)
{
    struct mm *mm = ctx; /* NULL when the whole space goes */
    frames_free(&g_frames, pa, len / FRAME_SIZE);
    image_released(); /* it may have been an image file's frame's last mapping */
    if (mm)
        mm->rss -= len;
}

static bool low(void)
{
    /* free frames, and what the kernel heap freed (a thread that ended left its stacks there) */
    return g_frames.nfree + kheap_free_bytes() / FRAME_SIZE < 2 * KERNEL_RESERVE;
}

bool mm_memory_low(void)
{
    if (!low())
        return false;
    image_reclaim(); /* the image's frames that no mapping holds are free memory too */
    return low();
}

uint64_t mm_total_bytes(void)
{
    return g_frames.total * FRAME_SIZE;
}

uint64_t mm_used_bytes(void)
{
    return (g_frames.total - g_frames.nfree) * FRAME_SIZE;
}

/* ---- address spaces ---- */

struct mm *mm_current(void)
{
    return current_process()->mm;
}

struct vmspace *mm_space(void)
{
    return &mm_current()->space;
}

uint64_t mm_rss_bytes(void)
{
    return mm_current()->rss;
}

struct mm *mm_create(uint64_t stack_size)
{
    struct mm *mm = kzalloc(sizeof(*mm));
    struct vma *vmas = kmalloc(VMAS_NEW * sizeof(struct vma));
    if (!mm || !vmas || mmu_space_init(&mm->mmu)) {
        kfree(vmas);
        kfree(mm);
        return NULL;
    }
    vms_init(&mm->space, MM_USER_START, MM_USER_END, vmas, VMAS_NEW);
    mm->users = 1;
    stack_size = PAGE_UP(stack_size);
    mm->stack_top = STACK_TOP;
    mm->stack_bottom = STACK_TOP - stack_size;
    mm->mmap_top = mm->stack_bottom - STACK_GAP;
    if (vms_insert(&mm->space, mm->stack_bottom, STACK_TOP, PROT_READ | PROT_WRITE, VMA_STACK)) {
        mm_put(mm);
        return NULL;
    }
    return mm;
}

void mm_init(uint64_t lo, uint64_t hi, uint64_t stack_size)
{
    void *store = kalloc_zeroed(frames_storage(lo, hi));
    if (!store)
        kpanic("out of kernel memory for the frame table");
    frames_init(&g_frames, lo, hi, store);
    struct mm *mm = mm_create(stack_size);
    if (!mm || mmu_activate(&mm->mmu))
        kpanic("out of kernel memory for the address space");
    current_process()->mm = mm;
}

/* mm_copy's walk: one page of the parent, copied into a frame of the child's, or the same
 * frame when its mapping is MAP_SHARED */
static int copy_page(void *ctx, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm)
{
    struct mm *dst = ctx;
    uint64_t npa;
    const struct vma *v = vms_lookup(&dst->space, va);
    if (v && size == HUGE && (v->start > va || v->end < va + HUGE)) {
        /* a 2 MiB page over ranges that fork treats differently: page by page */
        for (uint64_t off = 0; off < HUGE; off += PAGE_SIZE) {
            int err = copy_page(ctx, va + off, pa + off, PAGE_SIZE, perm);
            if (err)
                return err;
        }
        return 0;
    }
    if (v && (v->kind & VMA_F_WIPEONFORK))
        return 0; /* the child's page is filled with zeros when touched */
    /* MAP_SHARED memory, and an image file's frames (which no mapping writes), are the
     * child's too */
    bool image = v && image_backed(v) && is_image_frame(v, va, pa);
    if (v && (vma_kind(v) == VMA_SHARED || image)) {
        if (frames_ref(&g_frames, pa, size / FRAME_SIZE)) {
            if (!image)
                return -ENOMEM;
            goto copy; /* an image frame mapped 65535 times: the child gets a copy */
        }
        if (mmu_map(&dst->mmu, va, pa, size, perm)) {
            frames_free(&g_frames, pa, size / FRAME_SIZE);
            return -ENOMEM;
        }
        dst->rss += size;
        g_stats.fork_shared += size;
        return 0;
    }
copy:
    if (!mm_may_take(size / FRAME_SIZE))
        return -ENOMEM;
    if (size == HUGE && frames_alloc_chunk(&g_frames, &npa) != 0) {
        /* no whole chunk left: the 2 MiB page becomes 512 small ones */
        for (uint64_t off = 0; off < HUGE; off += PAGE_SIZE) {
            int err = copy_page(ctx, va + off, pa + off, PAGE_SIZE, perm);
            if (err)
                return err;
        }
        return 0;
    }
    if (size != HUGE && frames_alloc_page(&g_frames, &npa))
        return -ENOMEM;
    if (mm_prepare(npa, size, false))
        return -ENOMEM;
    memcpy(phys_to_virt(npa), phys_to_virt(pa), size);
    if (mmu_map(&dst->mmu, va, npa, size, perm)) {
        frames_free(&g_frames, npa, size / FRAME_SIZE);
        return -ENOMEM;
    }
    dst->rss += size;
    g_stats.fork_copied += size;
    return 0;
}

struct mm *mm_copy(struct mm *src)
{
    struct mm *mm = kzalloc(sizeof(*mm));
    struct vma *vmas = kmalloc(src->space.cap * sizeof(struct vma));
    if (!mm || !vmas || mmu_space_init(&mm->mmu)) {
        kfree(vmas);
        kfree(mm);
        return NULL;
    }
    struct mmu_space mmu = mm->mmu;
    *mm = *src; /* placement, brk, the mapping table's fields */
    mm->mmu = mmu;
    mm->space.v = vmas;
    memcpy(vmas, src->space.v, src->space.n * sizeof(struct vma));
    for (uint32_t i = 0; i < mm->space.n; i++)
        vmas[i].kind &= ~VMA_F_LOCKED; /* locks are not inherited (Linux) */
    mm->users = 1;
    mm->rss = 0;
    mm->patch = NULL;
    mm->files = NULL;
    mm->nfiles = mm->files_cap = 0;
    if (src->nfiles) {
        mm->files = kmalloc(src->nfiles * sizeof(*mm->files));
        if (!mm->files) {
            mmu_space_destroy(&mm->mmu, mm_release_frames, NULL);
            kfree(vmas);
            kfree(mm);
            return NULL;
        }
        for (uint32_t i = 0; i < src->nfiles; i++)
            vfs_get(mm->files[i] = src->files[i]);
        mm->nfiles = mm->files_cap = src->nfiles;
    }
    mm->exe = NULL;
    if (src->exe) {
        vfs_get(src->exe);
        vfs_deny_write(src->exe);
        mm_set_exe(mm, src->exe);
    }
    /* the child's tables are written before any vCPU loads them: no trap for any of it */
    if (mmu_walk(&src->mmu, 0, MM_USER_END, copy_page, mm) || patch_copy(src, mm)) {
        mm_put(mm);
        return NULL;
    }
    return mm;
}

void mm_set_exe(struct mm *mm, struct inode *ino)
{
    mm->exe = ino;
}

void mm_get(struct mm *mm)
{
    mm->users++;
}

void mm_put(struct mm *mm)
{
    if (--mm->users > 0)
        return;
    patch_free(mm);
    mmu_space_destroy(&mm->mmu, mm_release_frames, NULL);
    for (uint32_t i = 0; i < mm->nfiles; i++)
        vfs_put(mm->files[i]);
    if (mm->nfiles)
        shm_sweep();
    if (mm->exe) {
        vfs_allow_write(mm->exe);
        vfs_put(mm->exe);
    }
    kfree(mm->files);
    kfree(mm->space.v);
    kfree(mm);
}

uint64_t mm_stack_bottom(void)
{
    return mm_current()->stack_bottom;
}

uint64_t mm_stack_top(void)
{
    return mm_current()->stack_top;
}

void mm_set_brk_base(uint64_t base)
{
    mm_current()->brk_base = mm_current()->brk_cur = base;
}

/* The page-table permissions of a protection. A PROT_NONE page that has a frame keeps it, as a
 * supervisor page: everything here runs at CPL3, the kernel included, so nothing can touch it
 * but through the physmap. */
static uint64_t perm_of(uint32_t prot)
{
    if (prot == PROT_NONE)
        return PTE_NX;
    return PTE_U | ((prot & PROT_WRITE) ? PTE_W : 0) | ((prot & PROT_EXEC) ? 0 : PTE_NX);
}

/* Makes room in the mapping table for what one change can add (a split at each end), growing it
 * up to MAX_VMAS; past that the change itself answers -ENOMEM. */
static int room(struct mm *mm)
{
    struct vmspace *s = &mm->space;
    if (s->n + 2 <= s->cap || s->cap >= MAX_VMAS)
        return 0;
    uint32_t cap = MIN(s->cap * 2, MAX_VMAS);
    struct vma *v = kmalloc(cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    memcpy(v, s->v, s->n * sizeof(*v));
    kfree(s->v);
    s->v = v;
    s->cap = cap;
    return 0;
}

int mm_map_at(uint64_t start, uint64_t len, uint32_t prot, uint32_t kind)
{
    if (room(mm_current()))
        return -ENOMEM;
    int err = vms_insert(mm_space(), start, start + len, prot, kind);
    return err == -EINVAL ? -ENOMEM : err;
}

int mm_set_flags(uint64_t start, uint64_t end, uint32_t set, uint32_t clear)
{
    if (room(mm_current()))
        return -ENOMEM;
    return vms_set_flags(mm_space(), start, end, set, clear);
}

/* The address space holds file until it goes (once, however many mappings name it). */
static int hold_file(struct mm *mm, struct inode *file)
{
    for (uint32_t i = 0; i < mm->nfiles; i++)
        if (mm->files[i] == file)
            return 0;
    if (mm->nfiles == mm->files_cap) {
        uint32_t cap = mm->files_cap ? mm->files_cap * 2 : 8;
        struct inode **t = kmalloc(cap * sizeof(*t));
        if (!t)
            return -ENOMEM;
        if (mm->nfiles)
            memcpy(t, mm->files, mm->nfiles * sizeof(*t));
        kfree(mm->files);
        mm->files = t;
        mm->files_cap = cap;
    }
    vfs_get(file);
    mm->files[mm->nfiles++] = file;
    return 0;
}

/* Lets go of the files no mapping names any more (a file mapped and unmapped again, as
 * shm_open's users do, would otherwise stay until the address space goes). */
static void drop_unmapped_files(struct mm *mm)
{
    for (uint32_t i = 0; i < mm->nfiles;) {
        bool named = false;
        for (uint32_t k = 0; k < mm->space.n && !named; k++)
            named = mm->space.v[k].file == mm->files[i];
        if (named) {
            i++;
            continue;
        }
        vfs_put(mm->files[i]);
        mm->files[i] = mm->files[--mm->nfiles];
    }
    shm_sweep(); /* a removed segment may have lost its last attachment */
}

int mm_map_file(uint64_t start, uint64_t len, uint32_t prot, uint32_t kind, struct inode *file,
                uint64_t off)
{
    struct mm *mm = mm_current();
    if (room(mm) || hold_file(mm, file))
        return -ENOMEM;
    int err = vms_insert_file(&mm->space, start, start + len, prot, kind | VMA_F_FILE, file, off);
    return err == -EINVAL ? -ENOMEM : err;
}

int mm_find_free(uint64_t len, uint64_t align, uint64_t hint, uint64_t *out)
{
    struct vmspace *vs = mm_space();
    if (hint && !(hint & (align - 1)) && hint + len > hint && vms_is_free(vs, hint, hint + len))
        *out = hint;
    else if (vms_find_free_below(vs, len, align, mm_current()->mmap_top, out))
        return -ENOMEM;
    return 0;
}

int mm_map_anywhere(uint64_t len, uint64_t align, uint64_t hint, uint32_t prot, uint32_t kind,
                    uint64_t *out)
{
    uint64_t at;
    if (mm_find_free(len, align, hint, &at))
        return -ENOMEM;
    int err = mm_map_at(at, len, prot, kind);
    if (!err)
        *out = at;
    return err;
}

/* Both change the page tables first: if that fails half-way (no page for a table), no page is
 * left mapped outside a mapping or with more than its mapping allows. */
int mm_unmap(uint64_t start, uint64_t end)
{
    struct mm *mm = mm_current();
    if (room(mm))
        return -ENOMEM;
    bool had_file = mm->nfiles && vms_any_flag(&mm->space, start, end, VMA_F_FILE);
    if (mm->vdso_base >= start && mm->vdso_base < end)
        mm->vdso_base = 0; /* its range may hold anything from now on */
    int err = mmu_unmap(&mm->mmu, start, end - start, mm_release_frames, mm);
    if (!err)
        err = vms_remove(&mm->space, start, end);
    if (!err && mm->patch)
        patch_unmapped(mm, start, end);
    if (!err && had_file) /* only then can a file have lost its last mapping */
        drop_unmapped_files(mm);
    return err;
}

int mm_protect(uint64_t start, uint64_t end, uint32_t prot)
{
    struct mm *mm = mm_current();
    if (!vms_accessible(&mm->space, start, end - start, 0) || room(mm))
        return -ENOMEM;
    if ((prot & PROT_WRITE) && privatize(mm, start, end))
        return -ENOMEM;
    int err = mmu_protect(&mm->mmu, start, end - start, perm_of(prot));
    return err ? err : vms_protect(&mm->space, start, end, prot);
}

int mm_discard(uint64_t start, uint64_t end)
{
    struct mm *mm = mm_current();
    return mmu_unmap(&mm->mmu, start, end - start, mm_release_frames, mm);
}

/* Gives the untouched page at va a zeroed frame of its own. 0 or -ENOMEM. */
static int map_small(struct mm *mm, uint64_t va, uint64_t perm)
{
    uint64_t pa;
    int err = mm_may_take(1) ? frames_alloc_page(&g_frames, &pa) : -ENOMEM;
    if (!err)
        err = mm_prepare(pa, PAGE_SIZE, true);
    if (!err && (err = mmu_map(&mm->mmu, va, pa, PAGE_SIZE, perm)))
        frames_free(&g_frames, pa, 1);
    if (!err)
        mm->rss += PAGE_SIZE;
    return err;
}

/* A shared mapping of a writable file: the file's own page for file offset off. */
static int map_file_page(struct mm *mm, struct inode *file, uint64_t va, uint64_t off,
                         uint64_t perm)
{
    uint64_t pa;
    int err = tmpfs_page(file, off, &pa);
    if (err)
        return err == -ENXIO ? -ENXIO : -ENOMEM;
    if (frames_ref(&g_frames, pa, 1))
        return -ENOMEM;
    if (mmu_map(&mm->mmu, va, pa, PAGE_SIZE, perm)) {
        frames_free(&g_frames, pa, 1);
        return -ENOMEM;
    }
    mm->rss += PAGE_SIZE;
    return 0;
}

/* The untouched page at va of a mapping of a file: SIGBUS past the file's end (rounded up to a
 * page, as Linux); for an image file, its frame or a copy (above), and for a shared mapping of
 * a writable file, the file's pages (the page and its neighbours in the aligned 64 KiB, within
 * the file); else 1: a page of its own. */
static int fault_in_file(struct mm *mm, const struct vma *v, uint64_t va)
{
    uint64_t off = v->off + (PAGE_DOWN(va) - v->start);
    uint64_t size = PAGE_UP(v->file->size);
    if (off >= size)
        return -ENXIO;
    bool image = image_backed(v);
    if (!image && (vma_kind(v) != VMA_SHARED || !vfs_writable(v->file)))
        return 1;
    uint64_t perm = perm_of(v->prot);
    int err = image ? map_image_page(mm, v, PAGE_DOWN(va), off, perm)
                    : map_file_page(mm, v->file, PAGE_DOWN(va), off, perm);
    if (err)
        return err;
    uint64_t from = MAX(v->start, va & ~(uint64_t)(AROUND - 1));
    uint64_t to = MIN(v->end, (va & ~(uint64_t)(AROUND - 1)) + AROUND);
    for (uint64_t at = from; at < to; at += PAGE_SIZE) {
        uint64_t o = v->off + (at - v->start);
        if (o < size && mmu_lookup(&mm->mmu, at, NULL, NULL, NULL) != 0 &&
            (image ? map_image_page(mm, v, at, o, perm) : map_file_page(mm, v->file, at, o, perm)))
            break;
    }
    return 0;
}

/* Maps the frames for the untouched page at va of mapping v (see the top of the file). */
static int fault_in(struct mm *mm, const struct vma *v, uint64_t va)
{
    if (v->file) {
        int r = fault_in_file(mm, v, va);
        if (r <= 0)
            return r;
    }
    uint64_t perm = perm_of(v->prot), pa;
    uint64_t block = va & ~(HUGE - 1);
    if (!v->file && block >= v->start && block + HUGE <= v->end &&
        mm_has_room(FRAMES_PER_CHUNK + g_frames.total / 8) && mmu_unmapped(&mm->mmu, block, HUGE) &&
        frames_alloc_chunk(&g_frames, &pa) == 0) {
        if (mm_prepare(pa, HUGE, true) == 0) {
            if (mmu_map(&mm->mmu, block, pa, HUGE, perm) == 0) {
                mm->rss += HUGE;
                return 0;
            }
            frames_free(&g_frames, pa, FRAMES_PER_CHUNK);
        }
    }
    /* the page itself first (it must get its frame), then its neighbours while frames last */
    int err = map_small(mm, PAGE_DOWN(va), perm);
    if (err)
        return err;
    uint64_t from = MAX(v->start, va & ~(uint64_t)(AROUND - 1));
    uint64_t to = MIN(v->end, (va & ~(uint64_t)(AROUND - 1)) + AROUND);
    if (v->file) /* a private mapping of a file: nothing past its end (SIGBUS there) */
        to = MIN(to, v->start + (PAGE_UP(v->file->size) - v->off));
    for (uint64_t at = from; at < to; at += PAGE_SIZE)
        if (mmu_lookup(&mm->mmu, at, NULL, NULL, NULL) != 0 && map_small(mm, at, perm))
            break;
    return 0;
}

#define STACK_GUARD_GAP (256 * PAGE_SIZE) /* Linux's stack_guard_gap */

/* A fault at addr, below every page of a MAP_GROWSDOWN mapping, extends that mapping down to
 * addr's page as Linux does: while the whole mapping stays within RLIMIT_STACK and at least the
 * guard gap above the accessible mapping below it. The mapping that now holds addr, or NULL. */
static const struct vma *grow_down(struct mm *mm, uint64_t addr)
{
    const struct vma *v = vms_next(&mm->space, addr);
    uint64_t start = PAGE_DOWN(addr);
    if (!v || !(v->kind & VMA_F_GROWSDOWN) || start < MM_USER_START ||
        v->end - start > current_process()->rlimits[RLIMIT_STACK].cur)
        return NULL;
    const struct vma *below = v > mm->space.v ? v - 1 : NULL;
    if (below && !(below->kind & VMA_F_GROWSDOWN) && below->prot != PROT_NONE &&
        start - below->end < STACK_GUARD_GAP)
        return NULL;
    struct vma grown = *v; /* room() may move the table */
    if (room(mm) || vms_insert(&mm->space, start, grown.start, grown.prot, grown.kind))
        return NULL;
    return vms_lookup(&mm->space, addr);
}

int mm_fault(uint64_t addr, uint64_t err)
{
    struct mm *mm = mm_current();
    g_stats.faults++;
    const struct vma *v = vms_lookup(&mm->space, addr);
    if (!v && !(v = grow_down(mm, addr)))
        return -EFAULT;
    bool write = err & 0x2, exec = err & 0x10;
    if (v->prot == PROT_NONE || (write && !(v->prot & PROT_WRITE)) ||
        (exec && !(v->prot & PROT_EXEC)))
        return -EACCES;
    /* another vCPU may have given the page its frame since this fault was taken */
    uint64_t perm;
    if (mmu_lookup(&mm->mmu, addr, NULL, &perm, NULL) != 0) {
        g_stats.faults_mapped++;
        return fault_in(mm, v, addr);
    }
    if (perm == perm_of(v->prot))
        return 0; /* run it again: the TLB dropped the entry the fault came from */
    /* present and allowed, but the table says less: make it say what the mapping does (an image
     * file's frame is never made writable: a copy takes its place) */
    if ((v->prot & PROT_WRITE) && image_backed(v) && privatize(mm, addr, addr + 1))
        return -ENOMEM;
    return mmu_protect(&mm->mmu, PAGE_DOWN(addr), PAGE_SIZE, perm_of(v->prot));
}

static int populate(struct mm *mm, uint64_t start, uint64_t end)
{
    const struct vma *v = NULL;
    for (uint64_t at = PAGE_DOWN(start); at < end; at += PAGE_SIZE) {
        if (!v || at >= v->end)
            v = vms_lookup(&mm->space, at);
        if (!v || v->prot == PROT_NONE)
            return -EFAULT;
        if (mmu_lookup(&mm->mmu, at, NULL, NULL, NULL) == 0)
            continue;
        int err = fault_in(mm, v, at);
        if (err)
            return err;
    }
    return 0;
}

int mm_populate(uint64_t start, uint64_t end)
{
    return populate(mm_current(), start, end);
}

int mm_move(uint64_t from, uint64_t to, uint64_t len)
{
    struct mm *mm = mm_current();
    const struct vma *v = vms_lookup(&mm->space, to);
    uint64_t perm = perm_of(v ? v->prot : PROT_NONE);
    for (uint64_t off = 0; off < len;) {
        uint64_t pa, size;
        if (mmu_lookup(&mm->mmu, from + off, &pa, NULL, &size)) {
            off += PAGE_SIZE;
            continue;
        }
        /* a 2 MiB page moves whole when both ends allow it, else page by page */
        uint64_t step = PAGE_SIZE;
        if (size == HUGE && !((from + off) & (HUGE - 1)) && !((to + off) & (HUGE - 1)) &&
            off + HUGE <= len)
            step = HUGE;
        int err = mmu_map(&mm->mmu, to + off, pa, step, perm);
        if (err) {
            mmu_unmap(&mm->mmu, to, off, NULL, NULL); /* the frames stay where they were */
            return err;
        }
        off += step;
    }
    return mmu_unmap(&mm->mmu, from, len, NULL, NULL); /* the frames are at `to` now */
}

/* The kernel's view of [va, va + len) within one page, which gets its frame; for writing, a
 * page that is an image file's frame first becomes a copy (whatever the page's protection: the
 * syscall patcher writes into code). */
static void *alias(struct mm *mm, uint64_t va, size_t len, bool write)
{
    uint64_t pa;
    if (len == 0 || (va & (PAGE_SIZE - 1)) + len > PAGE_SIZE || populate(mm, va, va + len) ||
        (write && privatize(mm, va, va + len)) || mmu_lookup(&mm->mmu, va, &pa, NULL, NULL))
        return NULL;
    return phys_to_virt(pa);
}

int mm_make_private(uint64_t start, uint64_t end)
{
    struct mm *mm = mm_current();
    return populate(mm, start, end) ? -EFAULT : privatize(mm, start, end);
}

void *mm_alias(uint64_t va, size_t len)
{
    return alias(mm_current(), va, len, true);
}

int mm_write_in(struct mm *mm, uint64_t va, const void *src, size_t len)
{
    while (len > 0) {
        size_t n = MIN(len, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        uint8_t *p = alias(mm, va, n, true);
        if (!p)
            return -EFAULT;
        if (src) {
            memcpy(p, src, n);
            src = (const uint8_t *)src + n;
        } else {
            memset(p, 0, n);
        }
        va += n;
        len -= n;
    }
    return 0;
}

int mm_read_in(struct mm *mm, uint64_t va, void *dst, size_t len)
{
    while (len > 0) {
        size_t n = MIN(len, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        const uint8_t *p = alias(mm, va, n, false);
        if (!p)
            return -EFAULT;
        memcpy(dst, p, n);
        dst = (uint8_t *)dst + n;
        va += n;
        len -= n;
    }
    return 0;
}

const void *mm_peek_in(struct mm *mm, uint64_t va)
{
    uint64_t pa;
    return mmu_lookup(&mm->mmu, PAGE_DOWN(va), &pa, NULL, NULL) ? NULL : phys_to_virt(pa);
}

static int any_page(void *ctx, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm)
{
    (void)ctx, (void)va, (void)pa, (void)size, (void)perm;
    return 1; /* one is enough: stop the walk */
}

bool mm_touched_in(struct mm *mm, uint64_t start, uint64_t end)
{
    return end > start && mmu_walk(&mm->mmu, start, end - start, any_page, NULL) != 0;
}

int mm_write(uint64_t va, const void *src, size_t len)
{
    return mm_write_in(mm_current(), va, src, len);
}
