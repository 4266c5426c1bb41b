/* mmu.h: an address space's page tables on the vCPUs (mm/mmu.c).
 *
 * The monitor maps the upper half (the kernel, the physmap, the hypercall page, each vCPU's
 * window); the lower half is the enclave kernel's (ABI 4). An address space keeps its lower half
 * in a master PML4 that no vCPU loads, and has one PML4 per vCPU it has run on, made there the
 * first time: the upper half a copy of the monitor's PML4 for that vCPU (so its window is
 * there), the lower half the master's (the same PDPTs), kept so by every change here. Table pages
 * come from the kernel heap (kpage_alloc) and are reached through the physmap. Loading CR3 and
 * invalidating a TLB entry take the CPL0 trampolines (ALC_VEC_LOAD_CR3, ALC_VEC_INVLPG): a trap
 * each on our KVM, so a vCPU loads an address space's PML4 only when it changes (mmu_activate).
 *
 * Locking: the kernel lock, like the rest of the kernel.
 */
#ifndef ALCOVE_MMU_H
#define ALCOVE_MMU_H

#include "kernel.h"
#include "../mm/pagetable.h"

struct mmu_space {
    uint64_t master;             /* GPA of the PML4 whose lower half the others copy */
    uint64_t root[ALC_MAX_CPUS]; /* GPA of each vCPU's PML4, 0 until it runs there */
};

/* Makes the master PML4, with an empty lower half. 0 or -ENOMEM. */
int mmu_space_init(struct mmu_space *s);
/* pagetable.h's operations on the lower half of s (perm: PTE_PERM bits). */
int mmu_map(struct mmu_space *s, uint64_t va, uint64_t pa, uint64_t len, uint64_t perm);
int mmu_unmap(struct mmu_space *s, uint64_t va, uint64_t len);
int mmu_protect(struct mmu_space *s, uint64_t va, uint64_t len, uint64_t perm);
int mmu_lookup(struct mmu_space *s, uint64_t va, uint64_t *pa, uint64_t *perm);
/* Makes s the address space of this vCPU (loads CR3 unless it is loaded already). 0, or
 * -ENOMEM when this vCPU's PML4 for it cannot be made. */
int mmu_activate(struct mmu_space *s);

#endif
