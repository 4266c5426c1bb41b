/* mm.h: the application's memory: a process's address space (mm/vma.h: what is mapped where;
 * mmu.h: its page tables) over the application region's frames (mm/frame.h), with the policy
 * on top (where the stack, the heap and new mappings go, and when pages get frames). */
#ifndef ALCOVE_MM_H
#define ALCOVE_MM_H

#include <stdint.h>

#include "../mm/vma.h"
#include "mmu.h"

/* Every address space's mappings lie in [MM_USER_START, MM_USER_END). */
#define MM_USER_START 0x10000ull /* the first 64 KiB stay unmapped: NULL faults */
#define MM_USER_END   0x7ffffffff000ull

/* A process's address space (process.h: struct process.mm). */
struct mm {
    struct mmu_space mmu;             /* its page tables (mmu.h) */
    struct vmspace space;             /* what is mapped where, with what protection */
    uint64_t stack_bottom, stack_top; /* the main thread's stack */
    uint64_t mmap_top;                /* mappings go top-down from here */
    uint64_t brk_base, brk_cur;       /* the brk heap */
    uint64_t rss;                     /* bytes of frames mapped */
    unsigned users;                   /* processes using it (a vfork child shares it) */
    /* the files it has mapped, each held once until the space goes (an inode must outlive every
     * mapping that names it) */
    struct inode **files;
    uint32_t nfiles, files_cap;
    struct patch_state *patch; /* the syscall sites patched in its code (kernel/patch.c) */
    /* the program it runs, held and denied to writers (ETXTBSY) while the space exists, as
     * Linux's mm->exe_file is; a fork's copy holds it too */
    struct inode *exe;
    uint64_t vdso_base; /* where execve mapped the vDSO (vdso.h), 0 once it is unmapped */
};

/* An empty address space with the main stack of stack_size bytes reserved at its top, or NULL
 * when the kernel's memory is short. */
struct mm *mm_create(uint64_t stack_size);
/* A copy of src for a child (fork): the same mappings, every page with its own frame holding
 * the same bytes. NULL when memory is short (nothing is left behind). */
struct mm *mm_copy(struct mm *src);
/* mm runs the program ino from now on (see exe above), taking the caller's reference to it and
 * its vfs_deny_write. */
void mm_set_exe(struct mm *mm, struct inode *ino);
/* One more user of mm; one fewer, and the last one frees every frame and table of it. */
void mm_get(struct mm *mm);
void mm_put(struct mm *mm);

/* kernel/patch.c: an address space's patch state, copied for a child or freed with it; and
 * what it knew of the code in [start, end) of mm, forgotten when that range is unmapped
 * (whatever is mapped there next is other code). */
void patch_free(struct mm *mm);
int patch_copy(const struct mm *from, struct mm *to);
void patch_unmapped(struct mm *mm, uint64_t start, uint64_t end);

/* The application region [lo, hi) becomes the frames every address space takes its pages from,
 * and the current process gets an empty address space with the main stack of stack_size bytes
 * at its top; this vCPU runs on it from now on. */
void mm_init(uint64_t lo, uint64_t hi, uint64_t stack_size);
/* The current process's address space and its mapping table. */
struct mm *mm_current(void);
struct vmspace *mm_space(void);

/* Reserves [start, start + len) (page aligned, free) with prot: its pages get frames, zeroed,
 * when first touched. 0 or -ENOMEM. */
int mm_map_at(uint64_t start, uint64_t len, uint32_t prot, uint32_t kind);
/* Maps [start, start + len) (page aligned, free) to file from offset off (VMA_F_FILE in kind).
 * Its pages past the file's end give SIGBUS; a MAP_SHARED mapping (VMA_SHARED) of a writable
 * file maps the file's own pages when they are touched (tmpfs_page), a private one gets pages of
 * its own (the caller copies the bytes). 0 or -ENOMEM. */
int mm_map_file(uint64_t start, uint64_t len, uint32_t prot, uint32_t kind, struct inode *file,
                uint64_t off);
/* Sets and clears VMA_F_* flags of the mappings in [start, end) (all mapped). 0 or -ENOMEM. */
int mm_set_flags(uint64_t start, uint64_t end, uint32_t set, uint32_t clear);
/* Where len free bytes lie, aligned to align, hint when it is free: 0 and *out, or -ENOMEM. */
int mm_find_free(uint64_t len, uint64_t align, uint64_t hint, uint64_t *out);
/* Reserves len bytes somewhere, aligned to align, preferring hint when it is free. */
int mm_map_anywhere(uint64_t len, uint64_t align, uint64_t hint, uint32_t prot, uint32_t kind,
                    uint64_t *out);
/* Removes the mappings in [start, end) and gives their frames back. 0 or -ENOMEM. */
int mm_unmap(uint64_t start, uint64_t end);
/* Gives [start, end) (mapped) the protection prot. 0 or -ENOMEM. */
int mm_protect(uint64_t start, uint64_t end, uint32_t prot);
/* Gives back the frames of [start, end) and keeps the mappings: they read as zeros again. */
int mm_discard(uint64_t start, uint64_t end);
/* Moves the frames of [from, from + len) to [to, to + len), mapped already and untouched. */
int mm_move(uint64_t from, uint64_t to, uint64_t len);

/* A page fault at addr with the CPU's error code: 0 when the page is now there (run the
 * instruction again), -EFAULT (nothing mapped there), -EACCES (the protection forbids it),
 * -ENXIO (past the end of a mapped file: SIGBUS) or -ENOMEM (no frame left). */
int mm_fault(uint64_t addr, uint64_t err);
/* Logs the memory and paging counters (--log-level debug, at the enclave's end). */
void mm_log_stats(void);
/* Gives every page of [start, end) its frame (they must be mapped and not PROT_NONE): what the
 * kernel does before it touches user memory. 0, -EFAULT or -ENOMEM. */
int mm_populate(uint64_t start, uint64_t end);
/* Gives every page of [start, end) its frame, and its own where it was an image file's (which
 * is never written: mm/image_pages.c): before the kernel writes code it must not fail to write
 * (the syscall patcher). 0, -EFAULT or -ENOMEM. */
int mm_make_private(uint64_t start, uint64_t end);
/* The kernel's pointer (through the physmap, writable whatever the protection) to the len bytes
 * at va, which lie in one page (its own from now on, see mm_make_private); NULL when that page
 * is not mapped or is PROT_NONE, or no frame is left for its copy. */
void *mm_alias(uint64_t va, size_t len);
/* Writes len bytes of src (zeros when src is NULL) at va whatever its protection: the loader's
 * and the syscall patcher's way to fill code. 0 or -EFAULT. */
int mm_write(uint64_t va, const void *src, size_t len);
/* The same in address space mm, which need not be the current one (a child's). */
int mm_write_in(struct mm *mm, uint64_t va, const void *src, size_t len);

/* Reads len bytes at va in address space mm (another process's: /proc/<pid>/cmdline), whatever
 * their protection. 0 or -EFAULT. */
int mm_read_in(struct mm *mm, uint64_t va, void *dst, size_t len);

/* The kernel's pointer to the page at va (page aligned) of address space mm when that page has
 * a frame, NULL when it has none: an untouched page, which reads as zeros (a core dump reads
 * memory this way, giving no page a frame). */
const void *mm_peek_in(struct mm *mm, uint64_t va);
/* True when some page of [start, end) in mm has a frame (has been touched). */
bool mm_touched_in(struct mm *mm, uint64_t start, uint64_t end);

/* The heap starts at base (page aligned, the end of the executable). */
void mm_set_brk_base(uint64_t base);

uint64_t mm_stack_bottom(void);
uint64_t mm_stack_top(void);
/* The application region's memory, and how much of it is in use (by every process and the
 * kernel heap's growth). */
uint64_t mm_total_bytes(void);
uint64_t mm_used_bytes(void);
/* True when free memory is short enough that a new thread or process is refused (EAGAIN)
 * rather than let the ones there run out of pages. */
bool mm_memory_low(void);
/* The current process's resident memory. */
uint64_t mm_rss_bytes(void);

/* Page-aligned kernel memory of whole frames (len a multiple of 4 KiB, not zeroed), whose pages
 * a mapping may share (frames_ref through mm_map_file's faults): tmpfs files' bytes. A frame
 * that a mapping still holds outlives kpages_free until it is unmapped. NULL when memory is
 * short. */
void *kpages_alloc(uint64_t len);
void kpages_free(void *p, uint64_t len);
/* Contiguous frames for the kernel heap (len a multiple of 4 KiB, backed, not zeroed), reached
 * through the physmap. 0 or -ENOMEM. */
int kframes_alloc(uint64_t len, uint64_t *pa);
void kframes_free(uint64_t pa, uint64_t len);

#endif
