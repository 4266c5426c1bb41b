/* pool.c: apply, status and release of the enclaves' reservation (see pool.h), apply and
 * release under the allocator's lock (status reads without it). apply reads the topology,
 * chooses or checks the CPUs, reserves the pages on the CPUs' node, and only then writes the
 * record, giving the pages back if it cannot. The record names the sysfs root it was made
 * under; release refuses to write another root's counts (a test's fake tree, or the real
 * one). The CPUs are not taken from the host: KVM runs vCPUs as host threads, which the
 * monitor pins to the pool (pool_pin_thread). */
#include "allocator/pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "allocator/cpupool.h"
#include "allocator/hugepages.h"
#include "allocator/sysfs.h"
#include "allocator/topology.h"
#include "common/errors.h"
#include "common/runtime.h"
#include "common/why.h"

/* In a runtime directory root shares with a group, the members use the pool root reserved and
 * never change it (sysfs would refuse them anyway, halfway): -1 (why set) for them. */
static int only_root_changes(char *why, size_t whylen)
{
    gid_t gid;
    if (geteuid() == 0 || !runtime_dir_shared(&gid))
        return 0;
    why_set(why, whylen,
            "the pool in %s is root's: the members of its group (gid %u) lease from it when "
            "their enclaves start, and only root applies or releases it",
            runtime_dir(), (unsigned)gid);
    return -1;
}

/* "process 12 (2 CPUs, 512 MiB), ..." of the live leases. */
static void holders(const struct pool_usage *u, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < u->nleases; i++) {
        int n =
            snprintf(buf + used, size - used, "%sprocess %ld of uid %u (%u CPUs, %llu MiB)",
                     used ? ", " : "", u->leases[i].pid, (unsigned)u->leases[i].uid,
                     cpuset_count(&u->leases[i].cpus), (unsigned long long)u->leases[i].mem_mib);
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
}

/* Under the lock: gives back reservation st unless leases hold it and !force. */
static int give_back(const struct pool_state *st, bool force, char *why, size_t whylen)
{
    if (strcmp(st->sysfs_root, sysfs_root()) != 0) {
        why_set(why, whylen,
                "the reservation was made with sysfs at %s, not %s: set ALCOVE_SYSFS_ROOT=%s to "
                "give it back",
                st->sysfs_root, sysfs_root(), st->sysfs_root);
        return E_INVALID_ARGUMENT;
    }
    struct pool_usage u;
    if (pool_usage_read(st, 1, &u, why, whylen))
        return E_FILE_OPERATION;
    if (u.nleases && !force) {
        char list[512];
        holders(&u, list, sizeof(list));
        why_set(why, whylen,
                "%u running enclave%s hold%s part of the reservation: %s; terminate them first, or "
                "use --force",
                u.nleases, u.nleases == 1 ? "" : "s", u.nleases == 1 ? "s" : "", list);
        pool_usage_free(&u);
        return E_ALLOCATOR_BUSY;
    }
    pool_usage_free(&u);
    if (hugepages_release(&st->pages, why, whylen))
        return E_FILE_OPERATION;
    if (state_remove(why, whylen))
        return E_FILE_OPERATION;
    return 0;
}

static int choose(const struct alloc_config *c, struct pool_state *st, char *why, size_t whylen)
{
    struct host_topology *t = malloc(sizeof(*t));
    if (!t) {
        why_set(why, whylen, "out of memory");
        return E_UNSPECIFIED;
    }
    int rc;
    if (topology_read(t, why, whylen) != 0) {
        free(t);
        return E_FILE_OPERATION;
    }
    int n;
    if (c->cpu_count)
        rc = cpupool_choose(t, c->cpu_count, &st->cpus, &n, why, whylen);
    else if ((rc = cpupool_check(t, &c->cpu_pool, &n, why, whylen)) == 0)
        st->cpus = c->cpu_pool;
    if (rc == 0) {
        st->pages.node = t->numa ? (int)t->node_id[n] : -1;
        st->threads_per_core = t->threads_per_core ? t->threads_per_core : 1;
        for (int cpu = cpuset_next(&st->cpus, 0); cpu >= 0; cpu = cpuset_next(&st->cpus, cpu + 1))
            st->core_first[cpu] = (uint16_t)cpuset_next(&t->cores[t->core_of[cpu]], 0);
    }
    topology_free(t);
    free(t);
    return rc;
}

int pool_apply(const struct alloc_config *config, const char *config_path, struct pool_state *out,
               char *why, size_t whylen)
{
    if (only_root_changes(why, whylen))
        return E_FILE_PERMISSIONS;
    int lock = state_lock(LOCK_EX, why, whylen);
    if (lock < 0)
        return -lock;
    struct pool_state *st = calloc(1, sizeof(*st));
    int rc = 0;
    if (!st) {
        why_set(why, whylen, "out of memory");
        rc = E_UNSPECIFIED;
        goto out;
    }
    int had = state_load(st, why, whylen);
    if (had < 0) {
        rc = E_FILE_OPERATION;
        goto out;
    }
    if (had && (rc = give_back(st, false, why, whylen)) != 0)
        goto out;
    memset(st, 0, sizeof(*st));
    if ((rc = choose(config, st, why, whylen)) != 0)
        goto out;
    int node = st->pages.node;
    if ((rc = hugepages_reserve(node, config->memory_mib, &st->pages, why, whylen)) != 0)
        goto out;
    st->memory_mib = config->memory_mib;
    snprintf(st->sysfs_root, sizeof(st->sysfs_root), "%s", sysfs_root());
    snprintf(st->config, sizeof(st->config), "%s", config_path ? config_path : "");
    st->applied = (int64_t)time(NULL);
    if (state_save(st, why, whylen) != 0) {
        char ignored[64];
        hugepages_release(&st->pages, ignored, sizeof(ignored));
        rc = E_FILE_OPERATION;
        goto out;
    }
    if (pool_leases_prepare(why, whylen) != 0) {
        char ignored[64];
        hugepages_release(&st->pages, ignored, sizeof(ignored));
        state_remove(ignored, sizeof(ignored));
        rc = E_FILE_OPERATION;
        goto out;
    }
    if (out)
        *out = *st;
out:
    free(st);
    state_unlock(lock);
    return rc;
}

int pool_status(bool *reserved, struct pool_state *st, struct pool_usage *use, char *why,
                size_t whylen)
{
    *reserved = false;
    memset(st, 0, sizeof(*st));
    memset(use, 0, sizeof(*use));
    /* without the lock, which a member could hold: the record is replaced by a rename, so it
     * is read whole, and a lease being written is counted on the next look */
    int rc = 0;
    int had = state_load(st, why, whylen);
    if (had < 0)
        rc = E_FILE_OPERATION;
    else if (had > 0) {
        *reserved = true;
        if (pool_usage_read(st, 0, use, why, whylen))
            rc = E_FILE_OPERATION;
    }
    return rc;
}

int pool_release(bool force, bool *had, char *why, size_t whylen)
{
    if (had)
        *had = false;
    if (only_root_changes(why, whylen))
        return E_FILE_PERMISSIONS;
    int lock = state_lock(LOCK_EX, why, whylen);
    if (lock < 0)
        return -lock;
    struct pool_state *st = calloc(1, sizeof(*st));
    int rc = 0;
    int loaded = st ? state_load(st, why, whylen) : -1;
    if (loaded < 0)
        rc = E_FILE_OPERATION;
    else if (loaded > 0) {
        if (had)
            *had = true;
        rc = give_back(st, force, why, whylen);
    }
    free(st);
    state_unlock(lock);
    return rc;
}
