/* futex.h: futexes (sys/futex.c): what the rest of the kernel needs from them. */
#ifndef ALCOVE_FUTEX_H
#define ALCOVE_FUTEX_H

#include "kernel.h"

#define FUTEX_BITSET_ANY 0xffffffffu

/* Wakes up to n threads waiting on the futex at user address uaddr whose bitset meets bitset;
 * returns how many. */
int futex_wake_addr(uint64_t uaddr, int n, uint32_t bitset);

#endif
