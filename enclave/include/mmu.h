/* mmu.h: an address space's page tables on the vCPUs (mm/mmu.c).
 *
 * The monitor maps the upper half (the kernel, the physmap, the hypercall page, each vCPU's
 * window); the lower half is the enclave kernel's (ABI 5). An address space keeps its lower half
 * in a master PML4 that no vCPU loads, and has one PML4 per vCPU it has run on, made there the
 * first time: the upper half a copy of the monitor's PML4 for that vCPU (so its window is
 * there), the lower half the master's (the same PDPTs), kept so by every change here. Table pages
 * come from the kernel heap (kpage_alloc) and are reached through the physmap. Loading CR3 and
 * invalidating a TLB entry take the CPL0 trampolines (`ud2` at alc_ud_load_cr3, alc_ud_invlpg): a
 * trap each on our KVM, so a vCPU loads an address space's PML4 only when it changes
 * (mmu_activate).
 *
 * TLBs: a change that removes or narrows a mapping is invalidated on this vCPU at once (invlpg
 * for a few pages, a CR3 reload for more); every other vCPU with the space loaded reloads CR3
 * the next time it enters the kernel (mmu_tlb_check) or switches to a thread. Memory that an
 * unmap removes goes back to its owner (the release function) only after every vCPU that runs a
 * thread on that space and could still reach it through its TLB has reloaded (an idle vCPU
 * holds nothing back); there is no inter-vCPU interrupt, so a vCPU that stays in the
 * application for long delays that, and a narrowed protection may still allow an access there
 * until then.
 *
 * Locking: the kernel lock, like the rest of the kernel.
 */
#ifndef ALCOVE_MMU_H
#define ALCOVE_MMU_H

#include "kernel.h"
#include "../mm/pagetable.h"

struct mmu_space {
    uint64_t master;             /* GPA of the PML4 whose lower half the others copy */
    uint64_t root[ALC_MAX_CPUS]; /* GPA of each vCPU's PML4 (made with the space) */
    uint64_t filled;             /* vCPUs whose PML4 has its upper half (loaded there once) */
};

/* Makes the master PML4, with an empty lower half, and one PML4 per vCPU. 0 or -ENOMEM. */
int mmu_space_init(struct mmu_space *s);
/* pagetable.h's operations on the lower half of s (perm: PTE_PERM bits). */
int mmu_map(struct mmu_space *s, uint64_t va, uint64_t pa, uint64_t len, uint64_t perm);
/* release(ctx, pa, len) gets the memory each removed mapping pointed to, when no TLB can reach
 * it any more (at once, or later from another vCPU's mmu_tlb_check). */
int mmu_unmap(struct mmu_space *s, uint64_t va, uint64_t len,
              void (*release)(void *ctx, uint64_t pa, uint64_t len), void *ctx);
int mmu_protect(struct mmu_space *s, uint64_t va, uint64_t len, uint64_t perm);
int mmu_lookup(struct mmu_space *s, uint64_t va, uint64_t *pa, uint64_t *perm, uint64_t *size);
/* pt_walk over the lower half of s. */
int mmu_walk(struct mmu_space *s, uint64_t va, uint64_t len,
             int (*fn)(void *ctx, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm),
             void *ctx);
/* Unmaps everything (release as mmu_unmap's) and frees the tables; a vCPU that still has s
 * loaded keeps its PML4 until it loads another. s can be made again with mmu_space_init. */
void mmu_space_destroy(struct mmu_space *s, void (*release)(void *ctx, uint64_t pa, uint64_t len),
                       void *ctx);
/* True when nothing in [va, va + len) is mapped. */
bool mmu_unmapped(struct mmu_space *s, uint64_t va, uint64_t len);
/* Makes s the address space of this vCPU (loads CR3 unless it is loaded already). 0. */
int mmu_activate(struct mmu_space *s);
/* This vCPU runs its idle context now (no thread): it keeps its PML4 but holds no memory back
 * (it reloads before touching a process's memory again). */
void mmu_idle(void);
/* Logs the paging counters (--log-level debug, at the enclave's end). */
void mmu_log_stats(void);
/* At every entry to the kernel (kernel_enter): reloads CR3 if a change made this vCPU's TLB
 * stale. */
void mmu_tlb_check(void);

#endif
