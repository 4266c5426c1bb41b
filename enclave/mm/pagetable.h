/* pagetable.h: x86-64 four-level page tables, built and changed by the enclave kernel.
 *
 * Pure code: table pages are reached through the caller's translator and made and freed by
 * its allocator (struct pt_env), so this is unit tested on the host (tests/unit/test_pagetable.c)
 * against a fake physical memory. Mapping uses 2 MiB pages wherever a range allows them (both
 * addresses 2 MiB aligned, the whole 2 MiB inside the range) and 4 KiB pages elsewhere; a 2 MiB
 * page that a change covers only in part is split into 4 KiB pages first. Leaves are written
 * with the accessed bit, and the dirty bit when writable, already set, so the CPU never writes
 * a page-table entry itself (on our KVM every write to a live table is a trap).
 *
 * Nothing here flushes a TLB: the caller does (a changed or removed entry needs it; a new one
 * does not). Every call is O(pages touched) and leaves the tree consistent when it fails with
 * -ENOMEM (what was done stays done, as a partial mmap would).
 */
#ifndef ALCOVE_PAGETABLE_H
#define ALCOVE_PAGETABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "x86/pte.h"

/* the permission bits a caller passes (the rest the code sets) */
#define PTE_PERM (PTE_W | PTE_U | PTE_PWT | PTE_PCD | PTE_G | PTE_NX)

#define PT_PAGE (4096ull)
#define PT_HUGE (2ull << 20)

struct pt_env {
    void *(*table)(void *ctx, uint64_t pa); /* the 512 entries of the table page at pa */
    int (*alloc)(void *ctx, uint64_t *pa);  /* a zeroed page for a table: 0 or -ENOMEM */
    void (*free)(void *ctx, uint64_t pa);   /* a table page no longer used */
    void *ctx;
    /* May be NULL. The memory of a page mapping that pt_unmap removes or pt_map replaces:
     * [pa, pa + len), 4 KiB or 2 MiB (the mapped frames go back to their owner here). */
    void (*release)(void *ctx, uint64_t pa, uint64_t len);
};

/* Maps [va, va + len) to [pa, pa + len) with perm (PTE_PERM bits), replacing what was mapped
 * there. va, pa and len are 4 KiB aligned; the range lies in one half of the address space and
 * ends below its top (-EINVAL otherwise, for every call here). 0 or -ENOMEM (no page for a
 * table). */
int pt_map(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t pa, uint64_t len,
           uint64_t perm);

/* Removes the mappings in [va, va + len); tables left empty are freed. 0 or -ENOMEM (a 2 MiB
 * page to split needs a table page). */
int pt_unmap(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t len);

/* Gives the present pages in [va, va + len) the permissions perm. 0 or -ENOMEM (a split). */
int pt_protect(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t len, uint64_t perm);

/* What va maps to: 0 and *pa (the byte's physical address), *perm (its PTE_PERM bits) and
 * *size (4 KiB or 2 MiB); -ENOENT when nothing is mapped there. Any output may be NULL. */
int pt_lookup(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t *pa, uint64_t *perm,
              uint64_t *size);

/* Calls fn(ctx, va, pa, size, perm) for every page mapping in [va, va + len), in address order
 * (a 2 MiB page partly inside is given whole: va is its start). Stops at the first non-zero
 * return of fn and returns it; 0 otherwise. */
int pt_walk(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t len,
            int (*fn)(void *ctx, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm),
            void *ctx);

/* True when nothing in [va, va + len) is mapped. */
bool pt_range_unmapped(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t len);

/* Frees every table below root's entries [first, last] (PML4 indices) and clears those
 * entries; the pages they mapped go to the env's release. */
void pt_free_tables(const struct pt_env *e, uint64_t root, unsigned first, unsigned last);

#endif
