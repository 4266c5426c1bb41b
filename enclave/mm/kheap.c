/* kheap.c: the enclave kernel's own memory. It starts in the kernel region's free pages and
 * grows in 2 MiB pieces of the application region's frames (kframes_alloc, mm.h), reached, like
 * everything the kernel owns, through the physmap: its pointers are the same in every address
 * space (mmu.h), whatever the lower half maps. Long-lived tables
 * take zeroed memory that is never freed (kalloc_zeroed); objects that come and go use
 * kmalloc/kfree: power-of-two size classes from 32 bytes to 4 KiB with free lists, first-fit
 * free blocks up to 128 KiB, and ranges of their own above that (file contents), which kfree
 * gives back to the frames. */
#include "kernel.h"
#include "klib.h"
#include "mm.h"

#define MIN_SHIFT 5  /* 32 bytes */
#define MAX_SHIFT 12 /* 4 KiB */
#define NCLASSES  (MAX_SHIFT - MIN_SHIFT + 1)
#define HDR       16           /* block header: size, keeps user data 16-byte aligned */
#define BIG       (128u << 10) /* blocks this large get frames of their own */
#define BIG_FLAG  1ull         /* in the header's size: a range of its own */
#define GROW_SIZE (2ull << 20)

struct free_block {
    struct free_block *next;
    uint64_t size; /* bytes including the header (large blocks only) */
};

static uint8_t *g_heap_cur;
static uint8_t *g_heap_end;
static struct free_block *g_class_free[NCLASSES];
static struct free_block *g_large_free;

void kheap_init(uint64_t gpa, uint64_t size)
{
    g_heap_cur = phys_to_virt(gpa);
    g_heap_end = g_heap_cur + size;
}

static bool g_can_grow;

void kheap_enable_growth(void)
{
    g_can_grow = true;
}

static void *bump(size_t size, size_t align)
{
    for (int tries = 0; tries < 2; tries++) {
        uintptr_t p = ((uintptr_t)g_heap_cur + align - 1) & ~(uintptr_t)(align - 1);
        if (size <= (uintptr_t)g_heap_end && p <= (uintptr_t)g_heap_end - size) {
            g_heap_cur = (uint8_t *)(p + size);
            return (void *)p;
        }
        /* a new piece from the application region; the rest of the old one is abandoned */
        uint64_t at, got = GROW_SIZE;
        if (!g_can_grow || size > GROW_SIZE / 2)
            return NULL;
        /* a smaller piece when no 2 MiB run of frames is free (the application's pages are
         * spread over every chunk) */
        while (kframes_alloc(got, &at))
            if ((got /= 4) < size + align || got < 4 * PAGE_SIZE)
                return NULL;
        g_heap_cur = phys_to_virt(at);
        g_heap_end = g_heap_cur + got;
    }
    return NULL;
}

/* Page-aligned zeroed pages (page tables): freed ones are kept for the next. */
static struct free_block *g_free_pages;
static uint64_t g_free_bytes; /* in the free lists: memory the heap can give again */

uint64_t kheap_free_bytes(void)
{
    return g_free_bytes;
}

void *kpage_alloc(void)
{
    void *p = g_free_pages;
    if (p) {
        g_free_pages = g_free_pages->next;
        g_free_bytes -= PAGE_SIZE;
    } else if (!(p = bump(PAGE_SIZE, PAGE_SIZE)))
        return NULL;
    memset(p, 0, PAGE_SIZE);
    return p;
}

void kpage_free(void *page)
{
    struct free_block *b = page;
    b->next = g_free_pages;
    g_free_pages = b;
    g_free_bytes += PAGE_SIZE;
}

void *kalloc_zeroed(size_t size)
{
    void *p = bump(size, 64);
    if (p)
        memset(p, 0, size);
    return p;
}

void *kmalloc(size_t size)
{
    size_t total = size + HDR;
    if (total < size)
        return NULL;
    uint64_t *h;
    if (total <= (1u << MAX_SHIFT)) {
        unsigned cls = 0;
        while ((1u << (cls + MIN_SHIFT)) < total)
            cls++;
        if (g_class_free[cls]) {
            h = (uint64_t *)g_class_free[cls];
            g_class_free[cls] = g_class_free[cls]->next;
            g_free_bytes -= 1u << (cls + MIN_SHIFT);
        } else if (!(h = bump(1u << (cls + MIN_SHIFT), 16))) {
            return NULL;
        }
        h[0] = 1u << (cls + MIN_SHIFT);
        return (uint8_t *)h + HDR;
    }
    total = (total + 4095) & ~(size_t)4095;
    if (total >= BIG) {
        uint64_t at;
        if (!g_can_grow || kframes_alloc(total, &at))
            return NULL;
        h = phys_to_virt(at);
        h[0] = total | BIG_FLAG;
        return (uint8_t *)h + HDR;
    }
    for (struct free_block **pp = &g_large_free; *pp; pp = &(*pp)->next) {
        if ((*pp)->size >= total) {
            struct free_block *b = *pp;
            *pp = b->next;
            h = (uint64_t *)b;
            h[0] = b->size;
            g_free_bytes -= b->size;
            return (uint8_t *)h + HDR;
        }
    }
    if (!(h = bump(total, 4096)))
        return NULL;
    h[0] = total;
    return (uint8_t *)h + HDR;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void *ptr)
{
    if (!ptr)
        return;
    uint64_t *h = (uint64_t *)((uint8_t *)ptr - HDR);
    uint64_t size = h[0];
    if (size & BIG_FLAG) {
        kframes_free(virt_to_phys(h), size & ~BIG_FLAG);
        return;
    }
    struct free_block *b = (struct free_block *)h;
    g_free_bytes += size;
    if (size <= (1u << MAX_SHIFT)) {
        unsigned cls = 0;
        while ((1u << (cls + MIN_SHIFT)) < size)
            cls++;
        KASSERT((1u << (cls + MIN_SHIFT)) == size);
        b->next = g_class_free[cls];
        g_class_free[cls] = b;
    } else {
        b->size = size;
        b->next = g_large_free;
        g_large_free = b;
    }
}
