/* image_pages.c: the image's files, one frame per page, shared by every mapping that only reads
 * it (mm_internal.h; the rest of address spaces is mm.c).
 *
 * A file of the image never changes (vfs_immutable), so a page of it is read into a frame the
 * first time any process maps that page, and every mapping that cannot write it maps that same
 * frame: a library costs its memory once, not once per process and exec. A mapping that can
 * write gets a private copy: when it is touched, when mprotect makes a page writable, or when
 * the kernel writes into it (the syscall patcher, mm_write). So a writable page is never the
 * file's, and the file's frames are only ever read. They stay with the file while anything
 * maps them; when memory runs short, the ones no mapping holds any more are given back.
 * Locking: the kernel lock, as the rest of mm. */
#include "frame.h"
#include "klib.h"
#include "mm.h"
#include "mm_internal.h"
#include "vfs.h"

static struct inode *g_image_files; /* the files that have frames, through pages_next */

static bool g_released; /* a frame was released since the last walk: one may be the image's */

void image_released(void)
{
    g_released = true;
}

/* Gives back the frames of the image's files that no mapping holds. */
void image_reclaim(void)
{
    if (!g_released)
        return; /* the last walk left only frames that something maps */
    g_released = false;
    for (struct inode *f = g_image_files; f; f = f->pages_next)
        for (uint64_t i = 0, n = PAGE_UP(f->size) / PAGE_SIZE; i < n; i++)
            if (f->pages[i] && !frames_extra_refs(&g_frames, f->pages[i])) {
                frames_free(&g_frames, f->pages[i], 1);
                f->pages[i] = 0;
            }
}

bool image_backed(const struct vma *v)
{
    return v && v->file && vfs_immutable(v->file);
}

/* The frame of image file f for offset off, read from the ramdisk when first asked for. */
static int image_frame(struct inode *f, uint64_t off, uint64_t *pa)
{
    uint64_t n = PAGE_UP(f->size) / PAGE_SIZE, i = off / PAGE_SIZE;
    if (i >= n)
        return -ENXIO;
    if (!f->pages) {
        if (!(f->pages = kzalloc(n * sizeof(*f->pages))))
            return -ENOMEM;
        f->pages_next = g_image_files;
        g_image_files = f;
    }
    if (!f->pages[i]) {
        uint64_t p;
        if (!mm_may_take(1) || frames_alloc_page(&g_frames, &p) || mm_prepare(p, PAGE_SIZE, true))
            return -ENOMEM;
        inode_read(f, phys_to_virt(p), PAGE_SIZE, off);
        f->pages[i] = p;
        g_released = true; /* not mapped yet: it can go back until it is */
    }
    *pa = f->pages[i];
    return 0;
}

/* True when pa, mapped at va of image-backed mapping v, is the file's frame (not a copy). */
bool is_image_frame(const struct vma *v, uint64_t va, uint64_t pa)
{
    const struct inode *f = v->file;
    uint64_t i = (v->off + (PAGE_DOWN(va) - v->start)) / PAGE_SIZE;
    return f->pages && i < PAGE_UP(f->size) / PAGE_SIZE && f->pages[i] == pa;
}

/* Maps a copy of the frame at pa at va (present or not) with perm. */
static int map_copy(struct mm *mm, uint64_t va, uint64_t pa, uint64_t perm)
{
    uint64_t npa;
    if (!mm_may_take(1) || frames_alloc_page(&g_frames, &npa) || mm_prepare(npa, PAGE_SIZE, false))
        return -ENOMEM;
    memcpy(phys_to_virt(npa), phys_to_virt(pa), PAGE_SIZE);
    /* the old page's frame goes back (a file's keeps the file's reference) */
    int err = mmu_unmap(&mm->mmu, va, PAGE_SIZE, mm_release_frames, mm);
    if (!err)
        err = mmu_map(&mm->mmu, va, npa, PAGE_SIZE, perm);
    if (err) {
        frames_free(&g_frames, npa, 1);
        return -ENOMEM;
    }
    mm->rss += PAGE_SIZE;
    return 0;
}

/* Maps the untouched page at va of image-backed mapping v: the file's frame where v cannot
 * write it, else a copy of that frame. */
int map_image_page(struct mm *mm, const struct vma *v, uint64_t va, uint64_t off, uint64_t perm)
{
    uint64_t pa;
    if (v->prot & PROT_WRITE) {
        /* a page of its own, read from the ramdisk: no frame of the file's is made for it */
        int err = mm_may_take(1) ? frames_alloc_page(&g_frames, &pa) : -ENOMEM;
        if (err || mm_prepare(pa, PAGE_SIZE, true))
            return -ENOMEM;
        inode_read(v->file, phys_to_virt(pa), PAGE_SIZE, off);
        if (mmu_map(&mm->mmu, va, pa, PAGE_SIZE, perm)) {
            frames_free(&g_frames, pa, 1);
            return -ENOMEM;
        }
        mm->rss += PAGE_SIZE;
        return 0;
    }
    int err = image_frame(v->file, off, &pa);
    if (err)
        return err;
    if (frames_ref(&g_frames, pa, 1))
        return map_copy(mm, va, pa, perm); /* a frame with 65535 mappings: a copy */
    if (mmu_map(&mm->mmu, va, pa, PAGE_SIZE, perm)) {
        frames_free(&g_frames, pa, 1);
        return -ENOMEM;
    }
    mm->rss += PAGE_SIZE;
    return 0;
}

/* Makes the image files' frames mapped in [start, end) private copies: before the range
 * becomes writable, or before the kernel writes into it. 0 or -ENOMEM. */
int privatize(struct mm *mm, uint64_t start, uint64_t end)
{
    for (uint64_t at = PAGE_DOWN(start); at < end;) {
        const struct vma *v = vms_next(&mm->space, at);
        if (!v || v->start >= end)
            break;
        at = MAX(at, v->start);
        uint64_t stop = MIN(end, v->end);
        for (; image_backed(v) && at < stop; at += PAGE_SIZE) {
            uint64_t pa, perm;
            if (mmu_lookup(&mm->mmu, at, &pa, &perm, NULL) == 0 && is_image_frame(v, at, pa) &&
                map_copy(mm, at, pa, perm))
                return -ENOMEM;
        }
        at = stop;
    }
    return 0;
}
