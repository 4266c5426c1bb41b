/* patch.h: what the syscall-site patcher's two files share (kernel/patch.c: the stubs, ways 1
 * and 2, the entry from a trap; kernel/patch_cover.c: way 3). The design is at the top of
 * patch.c. Everything here runs under the kernel lock, on the current address space. */
#ifndef ALCOVE_KERNEL_PATCH_H
#define ALCOVE_KERNEL_PATCH_H

#include "kernel.h"
#include "mm.h"
#include "x86/x86_cover.h"

#define MAX_AREAS 32
#define NSITES    1024 /* sites remembered (a power of two) */

/* Sites seen, by address: what happened to them (logged once). */
enum site_state {
    SITE_PATCHED_IMM = 1,
    SITE_PATCHED_REL8 = 2,
    SITE_REFUSED = 4,
    SITE_PATCHED_COVER = 8, /* way 3: the jmp covers the instruction before and this syscall */
    SITE_COVER_ARMING = 16, /* way 3 under way: an int3 on the instruction (struct arming) */
};
/* and, for way 3, that instruction's length in the bits from here */
#define SITE_COVER_LEN_SHIFT  8
#define SITE_COVER_LEN(state) (((state) >> SITE_COVER_LEN_SHIFT) & 15u)

/* A way-3 site under way: its int3 is written, its stub made; the rest of the jmp waits until
 * every vCPU in cpus has entered the kernel (g_kernel_entries moved from entries[]) or runs no
 * thread of the process, and its first byte for a second such round (tail_written; orig then
 * holds the bytes written). */
#define ARMING_MAX 8
struct arming {
    uint64_t at, stub;                   /* the instruction (now int3 first) and its stub */
    uint32_t len;                        /* its length: the syscall is at at + len */
    uint8_t orig[X86_COVER_LEN_MAX + 2]; /* the bytes it replaces, instruction and syscall */
    uint64_t cpus;                       /* the vCPUs to wait for */
    bool tail_written; /* all of the jmp but its first byte: waiting for the second round */
    uint32_t entries[ALC_MAX_CPUS];
};

/* What an address space's code has had done to it (struct mm.patch): its stub area, and the
 * sites seen. A fork's child gets a copy (its memory is a copy), an execve starts afresh. */
struct patch_state {
    struct stub_area {
        uint64_t start, next, end;
    } areas[MAX_AREAS];
    uint32_t nareas;
    uint32_t ncover; /* sites of way 3 (their syscall's address is inside a jmp, or int3) */
    uint32_t narming;
    struct arming arming[ARMING_MAX];
    struct {
        uint64_t addr;
        uint32_t state;
    } sites[NSITES];
};

/* The current address space's, or NULL when its syscalls are not patched. */
static inline struct patch_state *ps(void)
{
    return mm_current()->patch;
}

/* ---- patch.c ---- */
/* The entry for addr, or the empty one where it would go, or NULL when the table is full. */
uint32_t *patch_site_state(uint64_t addr, bool add);
/* Code that may be patched (see the top of patch.c). */
bool patch_patchable(const struct vma *v);
/* The kernel's writable alias of the code at va (n bytes in one page). */
uint8_t *patch_code_at(uint64_t va, size_t n);
/* A stub that runs the npre bytes of the instruction pre, then enters the kernel and returns to
 * ret, reached by a jmp rel32 at from: its address, or 0 when no stub area has room in reach. */
uint64_t patch_make_stub(const uint8_t *pre, size_t npre, uint64_t ret, uint64_t from);
/* Writes `jmp rel32` to target at at, where nothing executes: the displacement, then the
 * opcode. */
void patch_write_jmp32_dead(uint64_t at, uint64_t target);
extern uint64_t g_patched_cover; /* way-3 sites covered (for the totals at exit) */

/* ---- patch_cover.c: way 3 ---- */
enum cover_result { COVER_NO, COVER_DONE, COVER_ARMED, COVER_LATER };
/* Way 3 for the syscall at x in v: COVER_DONE (covered), COVER_ARMED (an int3 on the
 * instruction, covered later), COVER_LATER (tried again at its next trap) or COVER_NO (*why
 * says why, when it is one of way 3's sites); the instruction's length in *len. */
enum cover_result patch_cover(const struct vma *v, uint64_t x, uint32_t *len, const char **why);
/* Covers the armed sites whose vCPUs have all passed through the kernel since. */
void patch_cover_finish(void);
/* The syscall's address when a way-3 site (covered, or under way) starts at at, else 0. */
uint64_t patch_cover_site_at(uint64_t at);
/* [start, end) was unmapped: the armed sites with a byte there are forgotten. */
void patch_cover_unmapped(struct patch_state *st, uint64_t start, uint64_t end);

#endif
