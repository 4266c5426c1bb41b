/* exe.h: starting the application: its executable found in the file system, loaded, and its
 * initial stack built. */
#ifndef ALCOVE_EXE_H
#define ALCOVE_EXE_H

#include "kernel.h"

/* Finds the program (the boot information's exec path, or argv[0] searched in PATH), loads it
 * and fills *r so that returning to user mode starts it with argv and envp (NULL-terminated
 * arrays of kernel strings). Returns 0 or -errno (the reason is logged). */
int exe_start(struct regs *r, char **argv, char **envp);

int random_fill(void *buf, size_t len);
void proc_init(void);
/* kernel/patch.c: reserves room for syscall stubs near the executable's code [lo, hi) in the
 * current address space (a fresh patch state; the old one goes). */
void patch_init(uint64_t lo, uint64_t hi);

#endif
