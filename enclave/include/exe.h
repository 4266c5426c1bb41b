/* exe.h: starting the application: its executable loaded and its initial stack built. */
#ifndef ALCOVE_EXE_H
#define ALCOVE_EXE_H

#include "kernel.h"

/* Loads the executable from the boot image and fills *r so that returning to user mode
 * starts it. Returns 0 or -errno (the reason is logged). */
int exe_start(struct regs *r);
/* The executable's path inside the enclave (what /proc/self/exe names). */
const char *exe_path(void);

int random_fill(void *buf, size_t len);
void proc_init(void);
/* kernel/patch.c: reserves room for syscall stubs near the executable's code [lo, hi). */
void patch_init(uint64_t lo, uint64_t hi);

#endif
