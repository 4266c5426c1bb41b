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

/* Flags, above the kind in vma.kind: ranges that differ in them are not merged. */
#define VMA_KIND_MASK    0xffu
#define VMA_F_FILE       0x100u  /* a mapping of a file */
#define VMA_F_NOWRITE    0x200u  /* MAP_SHARED of a file not open for writing: no PROT_WRITE */
#define VMA_F_LOCKED     0x400u  /* mlock, MAP_LOCKED */
#define VMA_F_WIPEONFORK 0x800u  /* MADV_WIPEONFORK: a fork's child gets zeros */
#define VMA_F_GROWSDOWN  0x1000u /* MAP_GROWSDOWN: a fault below it extends it (mm_fault) */
#define VMA_F_SHM        0x2000u /* a System V shared memory attachment (sys/shm.c) */
#define VMA_F_VDSO       0x4000u /* the vDSO's pages (kernel/vdso.c): "[vdso]" in maps */

struct inode;

struct vma {
    uint64_t start, end; /* [start, end), page aligned */
    uint32_t prot;       /* PROT_* */
    uint32_t kind;       /* enum vma_kind, and VMA_F_* flags */
    struct inode *file;  /* the file it maps (VMA_F_FILE), or NULL */
    uint64_t off;        /* the file offset of start */
};

static inline uint32_t vma_kind(const struct vma *v)
{
    return v->kind & VMA_KIND_MASK;
}

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
/* The same for a mapping of file from offset off: it merges only with a neighbour that maps the
 * same file at the adjacent offsets, and a part split off keeps its own offset. */
int vms_insert_file(struct vmspace *s, uint64_t start, uint64_t end, uint32_t prot, uint32_t kind,
                    struct inode *file, uint64_t off);

/* Removes whatever lies in [start, end), splitting ranges at the edges. 0 or -ENOMEM when a
 * split needs a table entry that is not there (nothing is changed then). */
int vms_remove(struct vmspace *s, uint64_t start, uint64_t end);

/* Sets the protection of [start, end). -ENOMEM if part of it is not mapped (nothing changed). */
int vms_protect(struct vmspace *s, uint64_t start, uint64_t end, uint32_t prot);

/* Sets and clears VMA_F_* flags over [start, end), which must be mapped (-ENOMEM otherwise, or
 * when a split needs an entry that is not there: nothing changed then). */
int vms_set_flags(struct vmspace *s, uint64_t start, uint64_t end, uint32_t set, uint32_t clear);

/* True when some range with this VMA_F_* flag overlaps [start, end). */
int vms_any_flag(const struct vmspace *s, uint64_t start, uint64_t end, uint32_t flag);

/* True when some range of this kind (flags aside) overlaps [start, end). */
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
