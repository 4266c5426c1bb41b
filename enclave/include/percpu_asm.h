/* percpu_asm.h: offsets into the enclave kernel's per-CPU page that assembly (entry.S) and
 * generated code (the syscall stubs of kernel/patch.c) use. kernel.h pins them to struct percpu. */
#ifndef ALCOVE_PERCPU_ASM_H
#define ALCOVE_PERCPU_ASM_H

#define PERCPU_CUR      0x100
#define PERCPU_FAST_RIP 0x108 /* where a patched syscall site continues */

#endif
