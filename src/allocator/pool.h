/* pool.h: the reservation for enclaves, as `alcove allocator apply|status|release` make and
 * show it (Nitro's nitro-enclaves-allocator service, for KVM): the CPU pool (cpupool.h) and the
 * hugepages (hugepages.h) on its NUMA node, recorded in the runtime directory (state.h). The
 * monitors take their share with pool_acquire (lease.h). Each call returns 0 or an alcove
 * error code with the reason in why. */
#ifndef ALCOVE_ALLOCATOR_POOL_H
#define ALCOVE_ALLOCATOR_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "allocator/config.h"
#include "allocator/lease.h"
#include "allocator/state.h"

/* Reserves what config asks for. A reservation already there is given back first (Nitro's
 * service clears the pool first too), unless enclaves hold part of it: then E_ALLOCATOR_BUSY
 * and the old one stays. After any other failure nothing is reserved, and every hugepage count
 * is what it was. config_path is recorded for status. out (may be NULL) receives the record. */
int pool_apply(const struct alloc_config *config, const char *config_path, struct pool_state *out,
               char *why, size_t whylen);

/* What is reserved and what the live leases use. *reserved is false when nothing is (st and
 * use are then zero). Free use with pool_usage_free. */
int pool_status(bool *reserved, struct pool_state *st, struct pool_usage *use, char *why,
                size_t whylen);

/* Gives the reservation back: the hugepages (each count back to what it was) and the record.
 * Refused (E_ALLOCATOR_BUSY, naming the processes) while enclaves hold leases, unless force.
 * *had (may be NULL) says whether there was a reservation; none is not an error. */
int pool_release(bool force, bool *had, char *why, size_t whylen);

#endif
