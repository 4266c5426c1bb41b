/* state.h: the reservation's record in the runtime directory (common/runtime.h), which
 * `alcove allocator apply` writes and everything else reads:
 *
 *   <runtime dir>/allocator.json   the reservation: pool CPUs and their cores, the NUMA node,
 *                                  hugepages per size (and the counts before), the sysfs root
 *   <runtime dir>/allocator.lock   flock'ed around every change: apply, release, and each
 *                                  enclave's lease (exclusive); made by the directory's owner
 *                                  only; status reads without it
 *   <runtime dir>/leases/          one file per enclave's lease (lease.h)
 *
 * The runtime directory is a tmpfs (/run) on a normal host, so the record goes away with a
 * reboot, as the hugepages and the pool do. */
#ifndef ALCOVE_ALLOCATOR_STATE_H
#define ALCOVE_ALLOCATOR_STATE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "allocator/cpulist.h"
#include "allocator/hugepages.h"

struct pool_state {
    uint64_t memory_mib; /* asked for (allocator.yaml); the pages may hold a little more */
    struct cpuset cpus;  /* the pool */
    uint16_t core_first[CPUS_MAX]; /* for a pool CPU: the lowest CPU of its core */
    unsigned threads_per_core;
    struct hp_reservation pages; /* pages.node: the NUMA node, -1 without NUMA */
    char sysfs_root[PATH_MAX];
    char config[PATH_MAX];
    int64_t applied; /* time(), seconds */
};

/* Takes the allocator's lock (LOCK_EX or LOCK_SH), waiting for it at most 10 s (lock.c). The fd,
 * or -(alcove error code) (why set): E15 when it is held longer or cannot be made, E18 when the
 * file there is not the runtime directory owner's (only that owner creates it). */
int state_lock(int how, char *why, size_t whylen);
void state_unlock(int fd);

/* Loads the record: 1, 0 when there is none, -1 when it cannot be read or is malformed. */
int state_load(struct pool_state *st, char *why, size_t whylen);
/* Writes the record (a new file renamed over the old). 0 or -1. */
int state_save(const struct pool_state *st, char *why, size_t whylen);
/* Removes the record. 0 or -1. */
int state_remove(char *why, size_t whylen);

/* "<runtime dir>/<name>" into buf. 0 or -1 (why set). */
int state_path(char *buf, size_t size, const char *name, char *why, size_t whylen);

#endif
