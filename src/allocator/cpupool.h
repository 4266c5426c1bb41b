/* cpupool.h: the rules for the CPU pool the allocator reserves for enclaves, the same as Nitro
 * Enclaves' driver checks (ne_setup_cpu_pool): every CPU online; whole cores only (all the
 * hyperthread siblings of each CPU); never CPU 0 nor its siblings, which the host keeps; all
 * on one NUMA node. cpu_count mode chooses such a pool, cpu_pool mode checks the one given.
 * Both return 0 or an alcove error code (E20 invalid configuration, E22 too few CPUs) with the
 * reason in why. */
#ifndef ALCOVE_ALLOCATOR_CPUPOOL_H
#define ALCOVE_ALLOCATOR_CPUPOOL_H

#include <stddef.h>

#include "allocator/cpulist.h"
#include "allocator/topology.h"

/* Chooses count CPUs as Nitro's allocator does: count must be a multiple of the threads per
 * core; the nodes are walked in order and, on each, whole cores (lowest CPUs first, CPU 0's
 * core skipped) are taken until count is reached on that one node. *node_index: the index in
 * t->node_id of the pool's node. */
int cpupool_choose(const struct host_topology *t, unsigned count, struct cpuset *pool,
                   int *node_index, char *why, size_t whylen);

/* Checks a pool given as a list. */
int cpupool_check(const struct host_topology *t, const struct cpuset *pool, int *node_index,
                  char *why, size_t whylen);

#endif
