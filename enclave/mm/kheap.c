/* kheap.c: the enclave kernel's own memory: a bump allocator over the kernel region's free
 * pages (reached through the physmap). Kernel tables are sized once at boot and never freed. */
#include "kernel.h"
#include "klib.h"

static uint8_t *g_heap_cur;
static uint8_t *g_heap_end;

void kheap_init(uint64_t gpa, uint64_t size)
{
    g_heap_cur = phys_to_virt(gpa);
    g_heap_end = g_heap_cur + size;
}

void *kalloc_zeroed(size_t size)
{
    uintptr_t p = ((uintptr_t)g_heap_cur + 63) & ~(uintptr_t)63;
    if (size > (uintptr_t)g_heap_end || p > (uintptr_t)g_heap_end - size)
        return NULL;
    g_heap_cur = (uint8_t *)(p + size);
    memset((void *)p, 0, size);
    return (void *)p;
}
