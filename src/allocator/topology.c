/* topology.c: reading the host's CPU topology from sysfs (see topology.h). Cores are the
 * distinct sibling sets of the online CPUs; a CPU whose siblings file is missing is grouped
 * with the CPUs that have its package and core ids, and a CPU with neither is a core alone.
 * Nodes are the node<M> directories that list CPUs. */
#include "allocator/topology.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocator/sysfs.h"
#include "common/why.h"

/* Reads a cpulist file. 0, -1 (missing: errno ENOENT) or -2 (malformed, why set). */
static int read_cpulist(const char *rel, struct cpuset *out, char *why, size_t whylen)
{
    char buf[8192], reason[160];
    long n = sysfs_read(rel, buf, sizeof(buf));
    if (n < 0) {
        why_set(why, whylen, "cannot read %s/%s: %s", sysfs_root(), rel, strerror((int)-n));
        return -1;
    }
    if (cpulist_parse(buf, (size_t)n, out, reason, sizeof(reason)) != 0) {
        why_set(why, whylen, "%s/%s: %s", sysfs_root(), rel, reason);
        return -2;
    }
    return 0;
}

/* The sibling set of cpu when topology/thread_siblings_list is missing: the online CPUs with
 * its package and core ids, or cpu alone. */
static void siblings_by_ids(const struct host_topology *t, unsigned cpu, struct cpuset *out)
{
    char rel[96];
    uint64_t pkg, core, p2, c2;
    cpuset_clear(out);
    cpuset_add(out, cpu);
    snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/topology/core_id", cpu);
    if (sysfs_read_u64(rel, &core) != 0)
        return;
    snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/topology/physical_package_id", cpu);
    if (sysfs_read_u64(rel, &pkg) != 0)
        pkg = 0;
    for (int c = cpuset_next(&t->online, 0); c >= 0; c = cpuset_next(&t->online, c + 1)) {
        snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/topology/core_id", c);
        if (sysfs_read_u64(rel, &c2) != 0 || c2 != core)
            continue;
        snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/topology/physical_package_id", c);
        if (sysfs_read_u64(rel, &p2) != 0)
            p2 = 0;
        if (p2 == pkg)
            cpuset_add(out, (unsigned)c);
    }
}

static int read_cores(struct host_topology *t, char *why, size_t whylen)
{
    for (unsigned i = 0; i < CPUS_MAX; i++)
        t->core_of[i] = -1;
    for (int c = cpuset_next(&t->online, 0); c >= 0; c = cpuset_next(&t->online, c + 1)) {
        if (t->core_of[c] >= 0)
            continue;
        char rel[96];
        struct cpuset sib;
        snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/topology/thread_siblings_list", c);
        int rc = read_cpulist(rel, &sib, why, whylen);
        if (rc == -2)
            return -1;
        if (rc == -1)
            siblings_by_ids(t, (unsigned)c, &sib);
        cpuset_add(&sib, (unsigned)c);
        struct cpuset offline = sib;
        cpuset_andnot(&offline, &t->online);
        cpuset_andnot(&sib, &offline); /* only online threads count */
        /* a sibling already in a core means an inconsistent tree: join that core */
        int joined = -1;
        for (int s = cpuset_next(&sib, 0); s >= 0; s = cpuset_next(&sib, s + 1))
            if (t->core_of[s] >= 0)
                joined = t->core_of[s];
        if (joined >= 0) {
            cpuset_or(&t->cores[joined], &sib);
        } else {
            struct cpuset *grown = realloc(t->cores, (t->ncores + 1) * sizeof(*grown));
            if (!grown) {
                why_set(why, whylen, "out of memory");
                return -1;
            }
            t->cores = grown;
            joined = (int)t->ncores++;
            t->cores[joined] = sib;
        }
        for (int s = cpuset_next(&sib, 0); s >= 0; s = cpuset_next(&sib, s + 1))
            t->core_of[s] = joined;
    }
    return 0;
}

static int cmp_uint(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

static int read_nodes(struct host_topology *t, char *why, size_t whylen)
{
    char dirpath[PATH_MAX];
    if (sysfs_path(dirpath, sizeof(dirpath), "devices/system/node") != 0) {
        why_set(why, whylen, "sysfs root path too long");
        return -1;
    }
    DIR *d = opendir(dirpath);
    if (!d) {
        t->numa = false;
        t->nnodes = 1;
        t->node_id[0] = 0;
        t->node_cpus[0] = t->online;
        return 0;
    }
    t->numa = true;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, "node", 4) != 0 || e->d_name[4] < '0' || e->d_name[4] > '9')
            continue;
        unsigned long id = strtoul(e->d_name + 4, &end, 10);
        if (*end || id > INT_MAX)
            continue;
        if (t->nnodes == TOPO_MAX_NODES) {
            closedir(d);
            why_set(why, whylen, "more than %d NUMA nodes", TOPO_MAX_NODES);
            return -1;
        }
        t->node_id[t->nnodes++] = (unsigned)id;
    }
    closedir(d);
    qsort(t->node_id, t->nnodes, sizeof(t->node_id[0]), cmp_uint);
    for (unsigned i = 0; i < t->nnodes; i++) {
        char rel[96];
        snprintf(rel, sizeof(rel), "devices/system/node/node%u/cpulist", t->node_id[i]);
        if (read_cpulist(rel, &t->node_cpus[i], why, whylen) != 0)
            return -1;
    }
    if (t->nnodes == 0) { /* a node directory with no nodes: treat the host as one node */
        t->numa = false;
        t->nnodes = 1;
        t->node_id[0] = 0;
        t->node_cpus[0] = t->online;
    }
    return 0;
}

int topology_read(struct host_topology *t, char *why, size_t whylen)
{
    memset(t, 0, sizeof(*t));
    if (read_cpulist("devices/system/cpu/online", &t->online, why, whylen) != 0)
        return -1;
    if (cpuset_empty(&t->online)) {
        why_set(why, whylen, "%s/devices/system/cpu/online lists no CPU", sysfs_root());
        return -1;
    }
    if (read_cores(t, why, whylen) != 0 || read_nodes(t, why, whylen) != 0) {
        topology_free(t);
        return -1;
    }
    t->threads_per_core = 1;
    if (t->core_of[0] >= 0)
        t->threads_per_core = cpuset_count(&t->cores[t->core_of[0]]);
    return 0;
}

void topology_free(struct host_topology *t)
{
    free(t->cores);
    t->cores = NULL;
    t->ncores = 0;
}

int topology_node_index(const struct host_topology *t, unsigned cpu)
{
    for (unsigned i = 0; i < t->nnodes; i++)
        if (cpuset_has(&t->node_cpus[i], cpu))
            return (int)i;
    return -1;
}

const struct cpuset *topology_cpu0_core(const struct host_topology *t)
{
    static const struct cpuset none;
    return t->core_of[0] >= 0 ? &t->cores[t->core_of[0]] : &none;
}
