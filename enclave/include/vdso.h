/* vdso.h: the virtual dynamic shared object every process gets (AT_SYSINFO_EHDR), as Linux's.
 *
 * Its code (enclave/vdso/vdso.c, built as a shared object linked at 0 and embedded in the
 * kernel image) reads the clocks without entering the kernel: CLOCK_REALTIME, CLOCK_MONOTONIC
 * and their kinds are pure functions of the TSC and four constants of the boot (kernel/time.c
 * computes them the same way), kept in the object's .alc_data section, which the kernel fills
 * once at boot. What it cannot answer (a CPU-time clock, a bad clock id) it asks the kernel the
 * way a patched syscall site does (kernel/patch.c): the code doing that lies in its .alc_enter
 * section, which the preemption path treats as a stub (vdso_enter_contains).
 *
 * Every exec maps a private copy of the object's pages (two or three) as "[vdso]"; a fork's
 * child has its copy with the rest of the address space.
 */
#ifndef ALCOVE_VDSO_H
#define ALCOVE_VDSO_H

#include <stdbool.h>
#include <stdint.h>

/* .alc_data: what the kernel writes into the object at boot */
struct alc_vdso_data {
    uint64_t boot_tsc;         /* the TSC at the clocks' anchor */
    uint64_t tsc_mult;         /* ns since the anchor = ((tsc - boot_tsc) * tsc_mult) >> 32 */
    int64_t boot_realtime_ns;  /* CLOCK_REALTIME at the anchor */
    int64_t boot_monotonic_ns; /* CLOCK_MONOTONIC at the anchor */
    uint64_t fast_entry;       /* alc_entry_fast (entry.S): the kernel's entry for the rest */
};

#ifndef ALCOVE_VDSO_USER
struct mm;
/* Checks the embedded object and fills its data (at boot). */
void vdso_init(void);
/* Maps a copy of the object into the current address space (execve): 0 and *base (for
 * AT_SYSINFO_EHDR), or -ENOMEM. */
int vdso_map(uint64_t *base);
/* Writes the vDSO's pages in [start, end) of the current address space back as execve mapped
 * them (after MADV_DONTNEED). 0 or -ENOMEM. */
int vdso_restore(uint64_t start, uint64_t end);
/* True when rip is in the current address space's vDSO code that enters the kernel. */
bool vdso_enter_contains(uint64_t rip);
#endif

#endif
