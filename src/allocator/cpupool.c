/* cpupool.c: choosing and checking the enclaves' CPU pool (see cpupool.h). A failure says
 * which rule broke and with what: the CPU, its core, the nodes and how many CPUs each could
 * give, so that the operator can fix allocator.yaml without reading sysfs. */
#include "allocator/cpupool.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "common/why.h"

/* Whether core i can go into a pool on node n: not CPU 0's, every thread on node n. */
static int core_usable(const struct host_topology *t, unsigned i, unsigned n)
{
    const struct cpuset *core = &t->cores[i];
    if (cpuset_intersects(core, topology_cpu0_core(t)) || cpuset_has(core, 0))
        return 0;
    return cpuset_subset(core, &t->node_cpus[n]);
}

int cpupool_choose(const struct host_topology *t, unsigned count, struct cpuset *pool,
                   int *node_index, char *why, size_t whylen)
{
    cpuset_clear(pool);
    unsigned tpc = t->threads_per_core ? t->threads_per_core : 1;
    if (count == 0 || count % tpc != 0) {
        why_set(why, whylen,
                "cpu_count %u is not a multiple of the host's %u threads per core: the pool takes "
                "whole cores",
                count, tpc);
        return E_INVALID_CPU_CONFIGURATION;
    }
    char report[512] = "";
    size_t used = 0;
    unsigned best = 0;
    for (unsigned n = 0; n < t->nnodes; n++) {
        struct cpuset got;
        cpuset_clear(&got);
        unsigned have = 0, usable = 0;
        for (unsigned i = 0; i < t->ncores; i++) {
            if (!core_usable(t, i, n))
                continue;
            unsigned size = cpuset_count(&t->cores[i]);
            usable += size;
            best = usable > best ? usable : best;
            if (have + size <= count) {
                cpuset_or(&got, &t->cores[i]);
                have += size;
            }
        }
        if (have == count) {
            *pool = got;
            *node_index = (int)n;
            return 0;
        }
        int w = snprintf(report + used, sizeof(report) - used, "%snode %u: %u", used ? ", " : "",
                         t->node_id[n], usable);
        if (w > 0 && (size_t)w < sizeof(report) - used)
            used += (size_t)w;
    }
    char keep[64] = "";
    cpulist_format(topology_cpu0_core(t), keep, sizeof(keep));
    if (t->numa && t->nnodes > 1)
        why_set(why, whylen,
                "cpu_count %u: no NUMA node has %u CPUs in whole cores outside CPU 0's core (%s), "
                "which the host keeps (%s)",
                count, count, keep, report);
    else
        why_set(
            why, whylen,
            "cpu_count %u: the host has %u CPUs in whole cores outside CPU 0's core (%s), which "
            "the host keeps",
            count, best, keep);
    return E_INSUFFICIENT_CPUS_AVAILABLE;
}

int cpupool_check(const struct host_topology *t, const struct cpuset *pool, int *node_index,
                  char *why, size_t whylen)
{
    if (cpuset_empty(pool)) {
        why_set(why, whylen, "cpu_pool is empty");
        return E_INVALID_CPU_CONFIGURATION;
    }
    char list[256];
    const struct cpuset *keep = topology_cpu0_core(t);
    for (int c = cpuset_next(pool, 0); c >= 0; c = cpuset_next(pool, c + 1)) {
        if (!cpuset_has(&t->online, (unsigned)c)) {
            cpulist_format(&t->online, list, sizeof(list));
            why_set(why, whylen, "cpu_pool: CPU %d is not online (online: %s)", c, list);
            return E_INVALID_CPU_CONFIGURATION;
        }
        if (c == 0 || cpuset_has(keep, (unsigned)c)) {
            cpulist_format(keep, list, sizeof(list));
            if (c == 0)
                why_set(why, whylen,
                        "cpu_pool: CPU 0 is the host's: its core (%s) stays with the host", list);
            else
                why_set(
                    why, whylen,
                    "cpu_pool: CPU %d is a hyperthread sibling of CPU 0: CPU 0's core (%s) stays "
                    "with the host",
                    c, list);
            return E_INVALID_CPU_CONFIGURATION;
        }
        const struct cpuset *core = &t->cores[t->core_of[c]];
        if (!cpuset_subset(core, pool)) {
            struct cpuset missing = *core;
            cpuset_andnot(&missing, pool);
            cpulist_format(core, list, sizeof(list));
            why_set(why, whylen,
                    "cpu_pool: CPU %d is in the pool but its sibling CPU %d is not: the pool takes "
                    "whole cores (CPU %d's core: %s)",
                    c, cpuset_next(&missing, 0), c, list);
            return E_INVALID_CPU_CONFIGURATION;
        }
    }
    int first = cpuset_next(pool, 0);
    int n = topology_node_index(t, (unsigned)first);
    if (n < 0) {
        why_set(why, whylen, "cpu_pool: CPU %d is on no NUMA node", first);
        return E_INVALID_CPU_CONFIGURATION;
    }
    if (!cpuset_subset(pool, &t->node_cpus[n])) {
        struct cpuset other = *pool;
        cpuset_andnot(&other, &t->node_cpus[n]);
        int c = cpuset_next(&other, 0);
        int m = topology_node_index(t, (unsigned)c);
        why_set(
            why, whylen,
            "cpu_pool spans NUMA nodes: CPU %d is on node %u, CPU %d on node %d: all the pool's "
            "CPUs must be on one node",
            first, t->node_id[n], c, m >= 0 ? (int)t->node_id[m] : -1);
        return E_INVALID_CPU_CONFIGURATION;
    }
    *node_index = n;
    return 0;
}
