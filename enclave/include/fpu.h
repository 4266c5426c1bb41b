/* fpu.h: the application's extended state (kernel/fpu.c). */
#ifndef ALCOVE_FPU_H
#define ALCOVE_FPU_H

#include "kernel.h"

/* A thread's copy while it is switched out (kernel/sched.c): its size, the initial state, and
 * saving and loading the live registers. */
uint32_t fpu_area_size(void);
void fpu_init_area(void *area);
void fpu_save(void *area);
void fpu_restore(const void *area);
/* The live registers back to the initial state (a signal handler's start, execve). */
void fpu_reset(void);

/* In a signal frame: the bytes it takes (with the trailing magic), whether it is XSAVE's
 * format, saving the live registers at user address fp (64-byte aligned, checked and given its
 * frames by the caller), and loading them from one (0: the initial state). Whatever the
 * application wrote there, what reaches xrstor is valid: reserved bits cleared. False when fp
 * cannot be read. */
uint32_t fpu_frame_size(void);
bool fpu_xsave(void);
void fpu_save_to_user(uint64_t fp);
bool fpu_restore_from_user(uint64_t fp);

#endif
