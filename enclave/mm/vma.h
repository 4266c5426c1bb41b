/* vma.h: the application's address space as a sorted list of mapped ranges.
 *
 * alcove maps the application region 1:1 (virtual == guest-physical) with large pages at boot,
 * so "mapping" memory means owning a range of it: this module decides which ranges are owned,
 * with what protection, and finds free ones. It has no knowledge of page tables and is unit
 * tested on the host (tests/unit/test_vma.c).
 */
#ifndef ALCOVE_VMA_H
#define ALCOVE_VMA_H

#include <stdint.h>

enum vma_kind {
    VMA_ANON = 1, /* anonymous mmap */
    VMA_EXE,      /* a segment of the executable */
    VMA_HEAP,     /* the brk heap */
    VMA_STACK,    /* the main thread's stack */
    VMA_KERNEL,   /* the enclave kernel's memory (heap growth, file contents): not the app's */
    VMA_SHARED,   /* MAP_SHARED: its pages are the same frames in a fork's child */
};

struct vma {
    uint64_t start, end; /* [start, end), page aligned */
    uint32_t prot;       /* PROT_* */
    uint32_t kind;       /* enum vma_kind */
};

struct vmspace {
    struct vma *v; /* sorted by start, non-overlapping */
    uint32_t n, cap;
    uint64_t lo, hi; /* every range lies in [lo, hi) */
    uint64_t mapped; /* bytes owned in total */
};

/* Sets up an empty space over [lo, hi) using caller-provided storage for cap entries. */
void vms_init(struct vmspace *s, uint64_t lo, uint64_t hi, struct vma *storage, uint32_t cap);

/* True when no range overlaps [start, end) and it lies inside [lo, hi). */
int vms_is_free(const struct vmspace *s, uint64_t start, uint64_t end);

/* Finds a free range of len bytes aligned to align (a power of two >= 4096), the highest one
 * that ends at or below top. Returns 0 and sets *out, or -ENOMEM. */
int vms_find_free_below(const struct vmspace *s, uint64_t len, uint64_t align, uint64_t top,
                        uint64_t *out);

/* Adds [start, end), which must be free, merging with equal neighbours. 0, -EINVAL (bad range
 * or overlap) or -ENOMEM (no room in the table). */
int vms_insert(struct vmspace *s, uint64_t start, uint64_t end, uint32_t prot, uint32_t kind);

/* Removes whatever lies in [start, end), splitting ranges at the edges. 0 or -ENOMEM when a
 * split needs a table entry that is not there (nothing is changed then). */
int vms_remove(struct vmspace *s, uint64_t start, uint64_t end);

/* Sets the protection of [start, end). -ENOMEM if part of it is not mapped (nothing changed). */
int vms_protect(struct vmspace *s, uint64_t start, uint64_t end, uint32_t prot);

/* True when some range of this kind overlaps [start, end). */
int vms_overlaps_kind(const struct vmspace *s, uint64_t start, uint64_t end, uint32_t kind);

/* The first range that ends after addr (it contains addr or lies above it), or NULL. */
const struct vma *vms_next(const struct vmspace *s, uint64_t addr);

/* The range containing addr, or NULL. */
const struct vma *vms_lookup(const struct vmspace *s, uint64_t addr);

/* True when [addr, addr + len) is entirely mapped and each page allows `need` (PROT_READ or
 * PROT_WRITE; any non-NONE protection is readable, as on x86; 0: mapped at all) and none of
 * it is the kernel's (VMA_KERNEL). len 0 is always accessible. */
int vms_accessible(const struct vmspace *s, uint64_t addr, uint64_t len, uint32_t need);

#endif
