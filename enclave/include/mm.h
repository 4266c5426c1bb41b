/* mm.h: the application's memory: the address space (mm/vma.h) plus the policy on top of it
 * (where the stack, the heap and new mappings go, and zeroing of reused pages). */
#ifndef ALCOVE_MM_H
#define ALCOVE_MM_H

#include <stdint.h>

#include "../mm/vma.h"
#include "mmu.h"

/* A process's address space (process.h: struct process.mm). */
struct mm {
    struct mmu_space mmu;             /* its page tables (mmu.h) */
    struct vmspace space;             /* what is mapped where, with what protection */
    uint64_t stack_bottom, stack_top; /* the main thread's stack */
    uint64_t mmap_top;                /* mappings go top-down from here */
    uint64_t brk_base, brk_cur;       /* the brk heap */
};

/* Gives the current process an address space over the application region [lo, hi): the region
 * mapped 1:1 (virtual == guest-physical) with 2 MiB pages where it can, and the main stack of
 * stack_size bytes at the top; this vCPU runs on it from now on. */
void mm_init(uint64_t lo, uint64_t hi, uint64_t stack_size);
/* The current process's address space and its mapping table. */
struct mm *mm_current(void);
struct vmspace *mm_space(void);

/* Owns [start, start + len) (page aligned, free), zero-filled. 0 or -errno. */
int mm_map_at(uint64_t start, uint64_t len, uint32_t prot, uint32_t kind);
/* Owns len zero-filled bytes somewhere, aligned to align, preferring hint when it is free. */
int mm_map_anywhere(uint64_t len, uint64_t align, uint64_t hint, uint32_t prot, uint32_t kind,
                    uint64_t *out);
/* Gives back a range the kernel took with kind VMA_KERNEL. */
void mm_unmap_kernel(uint64_t start, uint64_t len);
/* The heap starts at base (page aligned, the end of the executable). */
void mm_set_brk_base(uint64_t base);

uint64_t mm_stack_bottom(void);
uint64_t mm_stack_top(void);
uint64_t mm_total_bytes(void);
uint64_t mm_used_bytes(void);

#endif
