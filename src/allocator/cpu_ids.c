/* cpu_ids.c: CPUs asked for by number, checked against the host's topology (see cpu_ids.h). */
#include "allocator/cpu_ids.h"

#include "allocator/cpulist.h"
#include "allocator/topology.h"
#include "common/errors.h"
#include "common/why.h"

int cpu_ids_check(const uint32_t *ids, unsigned n, char *why, size_t whylen)
{
    struct cpuset seen;
    cpuset_clear(&seen);
    for (unsigned i = 0; i < n; i++) {
        if (ids[i] < CPUS_MAX && cpuset_has(&seen, ids[i])) {
            why_set(why, whylen, "CPU %u is given twice", ids[i]);
            return E_INVALID_CPU_CONFIGURATION;
        }
        if (ids[i] < CPUS_MAX)
            cpuset_add(&seen, ids[i]);
    }
    struct host_topology t;
    char reason[256];
    if (topology_read(&t, reason, sizeof(reason)) != 0) {
        why_set(why, whylen, "cannot read the host's CPUs: %s", reason);
        return E_INVALID_CPU_CONFIGURATION;
    }
    char online[256];
    cpulist_format(&t.online, online, sizeof(online));
    int rc = 0;
    for (unsigned i = 0; i < n && !rc; i++) {
        if (ids[i] >= CPUS_MAX || !cpuset_has(&t.online, ids[i])) {
            why_set(why, whylen, "CPU %u does not exist or is offline (online CPUs: %s)", ids[i],
                    online);
            rc = E_NO_SUCH_CPU_AVAILABLE;
        }
    }
    const struct cpuset *keep = topology_cpu0_core(&t);
    for (unsigned i = 0; i < n && !rc; i++) {
        if (cpuset_has(keep, ids[i])) {
            char core[128];
            cpulist_format(keep, core, sizeof(core));
            why_set(why, whylen,
                    "CPU %u is %s: the host keeps CPU 0's core (%s) for itself, enclaves never "
                    "get it",
                    ids[i], ids[i] == 0 ? "CPU 0" : "a hyperthread sibling of CPU 0", core);
            rc = E_INVALID_CPU_CONFIGURATION;
        }
    }
    topology_free(&t);
    return rc;
}
