/* pte.h: the bits of an x86-64 page-table entry, for the monitor's page tables
 * (src/monitor/boot.c) and the enclave kernel's (enclave/mm/pagetable.c). */
#ifndef ALCOVE_X86_PTE_H
#define ALCOVE_X86_PTE_H

#define PTE_P    0x1ull
#define PTE_W    0x2ull
#define PTE_U    0x4ull
#define PTE_PWT  0x8ull
#define PTE_PCD  0x10ull
#define PTE_A    0x20ull
#define PTE_D    0x40ull
#define PTE_PS   0x80ull /* in a PD entry: a 2 MiB page */
#define PTE_G    0x100ull
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#endif
