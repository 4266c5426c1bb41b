/* cpu_ids.h: a list of CPUs asked for by number (run-enclave --cpu-ids, --config's cpu_ids),
 * checked against the host whether or not the allocator has a pool: without one the monitor
 * pins its vCPUs to them, so they must be real, distinct, and not the CPUs the host keeps. */
#ifndef ALCOVE_ALLOCATOR_CPU_IDS_H
#define ALCOVE_ALLOCATOR_CPU_IDS_H

#include <stddef.h>
#include <stdint.h>

/* 0, or an error code with the reason in why, in nitro-cli's order and with its codes:
 * E_INVALID_CPU_CONFIGURATION (E20) for a CPU given twice, E_NO_SUCH_CPU_AVAILABLE (E21) for
 * one that does not exist or is offline, E_INVALID_CPU_CONFIGURATION for CPU 0 or a
 * hyperthread sibling of it (the host's), or when the topology cannot be read. */
int cpu_ids_check(const uint32_t *ids, unsigned n, char *why, size_t whylen);

#endif
