/* populate.h: backing guest RAM with host memory, in 2 MiB chunks: on request (the enclave
 * kernel's ALC_HC_POPULATE, before it hands memory to the application) and in the background,
 * so that launching an enclave does not wait for all of its memory. */
#ifndef ALCOVE_POPULATE_H
#define ALCOVE_POPULATE_H

#include <stdint.h>

struct vm;

/* Backs [gpa, gpa + len) (chunk aligned) and sets the chunks' bits in the populated bitmap.
 * 0, -EINVAL or -ENOMEM. Safe from any thread. */
int populate_range(struct vm *vm, uint64_t gpa, uint64_t len);
/* Starts the background thread (idle priority) that backs the chunks still missing, from the
 * top of the application region down. 0 or an alcove error code. */
int populate_start(struct vm *vm);
/* Stops it (at the next chunk) and waits for it. */
void populate_stop(struct vm *vm);

#endif
