/* layout.h: where everything goes in guest-physical memory.
 *
 * RAM [0, mem_size) is split in two: the application region [0, app_end), mapped 1:1, and the
 * kernel region [app_end, mem_size) at the top, 2 MiB aligned, which holds the kernel image,
 * page tables, the CPU windows, boot information, rings, the executable and the kernel heap.
 * This is pure arithmetic, unit tested in tests/unit/test_layout.c.
 */
#ifndef ALCOVE_LAYOUT_H
#define ALCOVE_LAYOUT_H

#include <stdint.h>

#include "abi/alcove_abi.h"

#define LAYOUT_OUT_RING_DATA   (256u << 10)
#define LAYOUT_IN_RING_DATA    (64u << 10)
#define LAYOUT_KHEAP_BASE      (1u << 20)
#define LAYOUT_KHEAP_PER_ENTRY 128         /* an inode and a directory entry */
#define LAYOUT_KHEAP_PROCESS   (64u << 10) /* the first process: its state, descriptors, signals */

struct layout_input {
    uint64_t mem_size; /* bytes, a multiple of 2 MiB */
    unsigned ncpu;
    uint64_t kernel_span;    /* bytes of the kernel image from ALC_KERNEL_VBASE */
    uint64_t rootfs_size;    /* bytes of the application ramdisk */
    uint64_t rootfs_entries; /* its entries (each costs the kernel an inode) */
    uint64_t strings_size;   /* argv and envp strings */
    uint64_t exec_path_len;  /* including the NUL */
};

struct layout {
    uint64_t mem_size;
    uint64_t app_end; /* = start of the kernel region */
    uint64_t kernel_gpa;
    uint64_t boot_gpa;
    uint64_t strings_gpa;
    uint64_t exec_path_gpa;
    uint64_t shared_gpa;
    uint64_t out_ring_gpa;
    uint64_t in_ring_gpa;
    uint64_t idt_gpa;
    uint64_t populated_gpa; /* bitmap, one bit per 2 MiB chunk of RAM */
    uint64_t pt_gpa;        /* page-table pool */
    uint64_t pt_pages;
    uint64_t cpu_gpa[ALC_MAX_CPUS]; /* ALC_CPU_PAGES pages each */
    uint64_t rootfs_gpa;
    uint64_t kheap_gpa;
    uint64_t kheap_size;
};

/* Page-table pages the monitor needs for a guest of this shape: the upper half (boot.c). */
uint64_t layout_pt_pages(uint64_t mem_size, unsigned ncpu, uint64_t kernel_span);

/* Fills *out. Returns 0, or -1 when the kernel region leaves less than min_app bytes for the
 * application. */
int layout_compute(const struct layout_input *in, uint64_t min_app, struct layout *out);

#endif
