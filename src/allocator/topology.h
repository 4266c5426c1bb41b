/* topology.h: the host's CPUs as the allocator sees them, read from sysfs (sysfs.h): which
 * CPUs are online, which are hyperthread siblings of one core, and which NUMA node each is on.
 *
 *   devices/system/cpu/online                              the online CPUs (a cpulist)
 *   devices/system/cpu/cpuN/topology/thread_siblings_list  N's core (else the CPUs with N's
 *   devices/system/cpu/cpuN/topology/{core_id,physical_package_id}   core and package ids)
 *   devices/system/node/nodeM/cpulist                      node M's CPUs; without a node
 *                                                          directory the host is one node
 */
#ifndef ALCOVE_ALLOCATOR_TOPOLOGY_H
#define ALCOVE_ALLOCATOR_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocator/cpulist.h"

#define TOPO_MAX_NODES 64

struct host_topology {
    struct cpuset online;
    bool numa; /* devices/system/node exists; else node 0 below is every online CPU */
    unsigned nnodes;
    unsigned node_id[TOPO_MAX_NODES]; /* ascending */
    struct cpuset node_cpus[TOPO_MAX_NODES];
    unsigned ncores;
    struct cpuset *cores;      /* each core's online threads, ordered by their lowest CPU */
    int32_t core_of[CPUS_MAX]; /* index into cores, -1 for a CPU that is not online */
    unsigned threads_per_core; /* the size of CPU 0's core (at least 1) */
};

/* Reads the topology. 0, or -1 with the reason in why (a missing or malformed file). Free it
 * with topology_free. */
int topology_read(struct host_topology *t, char *why, size_t whylen);
void topology_free(struct host_topology *t);

/* The index in node_id/node_cpus of the node cpu is on, or -1. */
int topology_node_index(const struct host_topology *t, unsigned cpu);
/* CPU 0's core: the CPUs the host keeps (empty when CPU 0 is not online). */
const struct cpuset *topology_cpu0_core(const struct host_topology *t);

#endif
