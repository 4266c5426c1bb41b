/* layout.c: guest-physical placement (see layout.h). */
#include "monitor/layout.h"

#include <string.h>

#define PAGE 4096ull
#define GIB  (1ull << 30)
#define MIB  (1ull << 20)

static uint64_t pages(uint64_t bytes)
{
    return (bytes + PAGE - 1) / PAGE;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

uint64_t layout_pt_pages(uint64_t mem_size, unsigned ncpu, uint64_t kernel_span)
{
    uint64_t n = 0;                 /* the enclave kernel maps the application half itself */
    n += (uint64_t)ncpu * 4;        /* per vCPU: PML4, kernel PDPT, window PD, window PT */
    n += 1 + div_up(mem_size, GIB); /* physmap: PDPT, PDs */
    n += 1 + div_up(kernel_span, 2ull << 20) + 1; /* kernel PD, its PTs, the MMIO PT */
    return n;
}

int layout_compute(const struct layout_input *in, uint64_t min_app, struct layout *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t kheap = LAYOUT_KHEAP_BASE + (uint64_t)4096 * 24 /* VMA table */ +
                     div_up(in->mem_size / PAGE, 4) /* the frames' two bitmaps */ +
                     2 * (in->mem_size / PAGE) /* and their shared references */ +
                     2 * div_up(in->mem_size, 2 * MIB) /* and their count per 2 MiB */ +
                     in->rootfs_entries * LAYOUT_KHEAP_PER_ENTRY + 2 * in->strings_size +
                     LAYOUT_KHEAP_PROCESS +
                     /* the application half's page tables, built before the heap can grow: a
                      * master PML4, one per vCPU, a PDPT, a PD per GiB, the first 2 MiB's PT,
                      * and each page's alignment */
                     2 * (4 + in->ncpu + div_up(in->mem_size, GIB)) * PAGE;

    /* everything but the page tables, whose count depends on where the region starts */
    uint64_t fixed = pages(in->kernel_span) + 1 /* boot info */ + pages(in->strings_size) +
                     pages(in->exec_path_len) + 1 /* shared */ +
                     pages(ALC_RING_DATA_OFFSET + LAYOUT_OUT_RING_DATA) +
                     pages(ALC_RING_DATA_OFFSET + LAYOUT_IN_RING_DATA) + 1 /* IDT */ +
                     pages(div_up(in->mem_size / ALC_CHUNK_SIZE, 8)) /* populated bitmap */ +
                     (uint64_t)in->ncpu * ALC_CPU_PAGES + pages(in->rootfs_size) + pages(kheap);
    uint64_t pt = layout_pt_pages(in->mem_size, in->ncpu, in->kernel_span);
    uint64_t region = (fixed + pt) * PAGE;
    uint64_t huge = ALC_HUGE_SIZE;
    if (region > in->mem_size)
        return -1;
    uint64_t start = (in->mem_size - region) & ~(huge - 1);
    if (start < min_app)
        return -1;

    out->mem_size = in->mem_size;
    out->app_end = start;
    uint64_t at = start;
#define TAKE(field, npages)                                                                        \
    do {                                                                                           \
        out->field = at;                                                                           \
        at += (npages)*PAGE;                                                                       \
    } while (0)
    TAKE(kernel_gpa, pages(in->kernel_span));
    TAKE(boot_gpa, 1);
    TAKE(strings_gpa, pages(in->strings_size));
    TAKE(exec_path_gpa, pages(in->exec_path_len));
    TAKE(shared_gpa, 1);
    TAKE(out_ring_gpa, pages(ALC_RING_DATA_OFFSET + LAYOUT_OUT_RING_DATA));
    TAKE(in_ring_gpa, pages(ALC_RING_DATA_OFFSET + LAYOUT_IN_RING_DATA));
    TAKE(idt_gpa, 1);
    TAKE(populated_gpa, pages(div_up(in->mem_size / ALC_CHUNK_SIZE, 8)));
    out->pt_pages = layout_pt_pages(in->mem_size, in->ncpu, in->kernel_span);
    TAKE(pt_gpa, out->pt_pages);
    for (unsigned i = 0; i < in->ncpu; i++)
        TAKE(cpu_gpa[i], ALC_CPU_PAGES);
    TAKE(rootfs_gpa, pages(in->rootfs_size));
#undef TAKE
    out->kheap_gpa = at;
    out->kheap_size = in->mem_size - at;
    if (at > in->mem_size || out->kheap_size < kheap)
        return -1;
    return 0;
}
