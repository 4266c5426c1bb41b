/* kheap.c: the enclave kernel's own memory, in the kernel region's free pages (reached through
 * the physmap). Long-lived tables take zeroed memory that is never freed (kalloc_zeroed); objects
 * that come and go (open files, directory listings) use kmalloc/kfree: power-of-two size classes
 * from 32 bytes to 4 KiB with free lists, and first-fit free blocks above that. */
#include "kernel.h"
#include "klib.h"

#define MIN_SHIFT 5  /* 32 bytes */
#define MAX_SHIFT 12 /* 4 KiB */
#define NCLASSES  (MAX_SHIFT - MIN_SHIFT + 1)
#define HDR       16 /* block header: size, keeps user data 16-byte aligned */

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

static void *bump(size_t size, size_t align)
{
    uintptr_t p = ((uintptr_t)g_heap_cur + align - 1) & ~(uintptr_t)(align - 1);
    if (size > (uintptr_t)g_heap_end || p > (uintptr_t)g_heap_end - size)
        return NULL;
    g_heap_cur = (uint8_t *)(p + size);
    return (void *)p;
}

void *kalloc_zeroed(size_t size)
{
    void *p = bump(size, 64);
    if (p)
        memset(p, 0, size);
    return p;
}

uint64_t kheap_free_bytes(void)
{
    return (uint64_t)(g_heap_end - g_heap_cur);
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
        } else if (!(h = bump(1u << (cls + MIN_SHIFT), 16))) {
            return NULL;
        }
        h[0] = 1u << (cls + MIN_SHIFT);
        return (uint8_t *)h + HDR;
    }
    total = (total + 4095) & ~(size_t)4095;
    for (struct free_block **pp = &g_large_free; *pp; pp = &(*pp)->next) {
        if ((*pp)->size >= total) {
            struct free_block *b = *pp;
            *pp = b->next;
            h = (uint64_t *)b;
            h[0] = b->size;
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
    struct free_block *b = (struct free_block *)h;
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
