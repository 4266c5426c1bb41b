/* cmd_allocator.c: `alcove allocator apply|status|release`, what nitro-cli's
 * nitro-enclaves-allocator service does, for KVM: reserve hugepages and a CPU pool for enclaves
 * as allocator.yaml says (apply), show the reservation and what running enclaves use of it
 * (status, JSON), give it back (release). The work is src/allocator's; this file parses the
 * flags, prints, and turns failures into "[ Exx ] ..." and the code's exit status. */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "allocator/config.h"
#include "allocator/pool.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "cli/json_out.h"
#include "common/errors.h"

static cJSON *cpus_array(const struct cpuset *s)
{
    cJSON *a = cJSON_CreateArray();
    for (int c = cpuset_next(s, 0); c >= 0; c = cpuset_next(s, c + 1))
        cJSON_AddItemToArray(a, cJSON_CreateNumber(c));
    return a;
}

/* The status object: Reserved, NUMANode, MemoryMiB{Reserved,Used,Free}, CPUs{Pool,Used,Free},
 * HugePages[{SizeKiB,Reserved,Used,Free}], Enclaves[{ProcessID,Uid,MemoryMiB,CPUIDs}], Config
 * (Uid: the lease file's owner; ProcessID is what the file says). */
static cJSON *status_json(bool reserved, const struct pool_state *st, const struct pool_usage *u)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "Reserved", reserved);
    if (reserved && st->pages.node >= 0)
        cJSON_AddNumberToObject(o, "NUMANode", st->pages.node);
    else
        cJSON_AddNullToObject(o, "NUMANode");
    uint64_t total = hugepages_bytes(&st->pages) >> 20;
    uint64_t used = u->mem_mib > total ? total : u->mem_mib;
    cJSON *mem = cJSON_AddObjectToObject(o, "MemoryMiB");
    cJSON_AddNumberToObject(mem, "Reserved", (double)total);
    cJSON_AddNumberToObject(mem, "Used", (double)used);
    cJSON_AddNumberToObject(mem, "Free", (double)(total - used));
    struct cpuset used_cpus = u->cpus, free_cpus = st->cpus;
    cpuset_andnot(&free_cpus, &u->cpus);
    cJSON *cpus = cJSON_AddObjectToObject(o, "CPUs");
    cJSON_AddItemToObject(cpus, "Pool", cpus_array(&st->cpus));
    cJSON_AddItemToObject(cpus, "Used", cpus_array(&used_cpus));
    cJSON_AddItemToObject(cpus, "Free", cpus_array(&free_cpus));
    cJSON *pages = cJSON_AddArrayToObject(o, "HugePages");
    for (unsigned i = 0; i < st->pages.nsizes; i++) {
        const struct hp_size *s = &st->pages.sizes[i];
        uint64_t pu = u->pages[i] > s->count ? s->count : u->pages[i];
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "SizeKiB", (double)s->kib);
        cJSON_AddNumberToObject(p, "Reserved", (double)s->count);
        cJSON_AddNumberToObject(p, "Used", (double)pu);
        cJSON_AddNumberToObject(p, "Free", (double)(s->count - pu));
        cJSON_AddItemToArray(pages, p);
    }
    cJSON *encl = cJSON_AddArrayToObject(o, "Enclaves");
    for (unsigned i = 0; i < u->nleases; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "ProcessID", (double)u->leases[i].pid);
        cJSON_AddNumberToObject(e, "Uid", (double)u->leases[i].uid);
        cJSON_AddNumberToObject(e, "MemoryMiB", (double)u->leases[i].mem_mib);
        cJSON_AddItemToObject(e, "CPUIDs", cpus_array(&u->leases[i].cpus));
        cJSON_AddItemToArray(encl, e);
    }
    if (reserved)
        cJSON_AddStringToObject(o, "Config", st->config);
    return o;
}

static int print_status(void)
{
    char why[1024] = "";
    bool reserved;
    struct pool_state *st = malloc(sizeof(*st));
    struct pool_usage u = {0};
    if (!st) {
        alc_err_report(E_UNSPECIFIED, "out of memory");
        return E_UNSPECIFIED;
    }
    int rc = pool_status(&reserved, st, &u, why, sizeof(why));
    if (rc == 0) {
        cJSON *o = status_json(reserved, st, &u);
        json_print(stdout, o);
        cJSON_Delete(o);
        if (!reserved)
            fprintf(stderr, "Nothing is reserved for enclaves: they run in ordinary memory on any "
                            "CPU ('alcove allocator apply' reserves a pool).\n");
    } else {
        alc_err_report(rc, "%s", why);
    }
    pool_usage_free(&u);
    free(st);
    return rc;
}

static int do_apply(const char *flag_config)
{
    const char *path = alloc_config_path(flag_config);
    struct alloc_config cfg;
    char why[1024] = "";
    if (alloc_config_load(path, &cfg, why, sizeof(why)) != 0) {
        if (strncmp(why, "line ", 5) == 0 || strncmp(why, "the file", 8) == 0)
            alc_err_report(E_ALLOCATOR_CONFIG, "%s: %s", path, why);
        else
            alc_err_report(E_ALLOCATOR_CONFIG, "%s", why);
        return E_ALLOCATOR_CONFIG;
    }
    struct pool_state *st = malloc(sizeof(*st));
    if (!st) {
        alc_err_report(E_UNSPECIFIED, "out of memory");
        return E_UNSPECIFIED;
    }
    char abs[PATH_MAX];
    int rc = pool_apply(&cfg, realpath(path, abs) ? abs : path, st, why, sizeof(why));
    if (rc) {
        alc_err_report(rc, "%s", why);
        free(st);
        return rc;
    }
    char cpus[256] = "", pages[256] = "";
    cpulist_format(&st->cpus, cpus, sizeof(cpus));
    size_t used = 0;
    for (unsigned i = 0; i < st->pages.nsizes && used < sizeof(pages); i++) {
        uint64_t kib = st->pages.sizes[i].kib;
        int n = snprintf(pages + used, sizeof(pages) - used, "%s%llu x %llu %s", used ? ", " : "",
                         (unsigned long long)st->pages.sizes[i].count,
                         (unsigned long long)(kib >= 1048576 ? kib >> 20 : kib >> 10),
                         kib >= 1048576 ? "GiB" : "MiB");
        if (n > 0)
            used += (size_t)n;
    }
    char node[32] = "";
    if (st->pages.node >= 0)
        snprintf(node, sizeof(node), " on NUMA node %d", st->pages.node);
    fprintf(stderr, "Reserved for enclaves: %llu MiB of hugepages (%s) and CPU%s %s%s.\n",
            (unsigned long long)(hugepages_bytes(&st->pages) >> 20), pages,
            cpuset_count(&st->cpus) == 1 ? "" : "s", cpus, node);
    free(st);
    return print_status();
}

static int do_release(bool force)
{
    char why[1024] = "";
    bool had;
    int rc = pool_release(force, &had, why, sizeof(why));
    if (rc) {
        alc_err_report(rc, "%s", why);
        return rc;
    }
    fprintf(stderr, had ? "Released the enclaves' hugepages and CPU pool.\n"
                        : "Nothing was reserved for enclaves.\n");
    return 0;
}

static int run_allocator(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    if (argc < 2) {
        return args_usage_error(E_MISSING_ARGUMENT, "give a subcommand: apply, status or release");
    }
    const char *sub = argv[1];
    int which = strcmp(sub, "apply") == 0     ? 0
                : strcmp(sub, "status") == 0  ? 1
                : strcmp(sub, "release") == 0 ? 2
                                              : -1;
    if (which < 0) {
        return args_usage_error(E_INVALID_ARGUMENT,
                                "unknown subcommand '%s' (apply, status or release)", sub);
    }
    const char *config = NULL;
    bool force = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "+:", opts, NULL)) != -1) {
        if (c == 'h') {
            print_usage(&cmd_allocator);
            return 0;
        } else if (c == 'c' && which == 0) {
            config = optarg;
        } else if (c == 'f' && which == 2) {
            force = true;
        } else {
            return args_getopt_error(c, argv + 1, "allocator");
        }
    }
    if (optind < argc - 1) {
        return args_usage_error(E_INVALID_ARGUMENT, "unexpected argument '%s'", argv[optind + 1]);
    }
    /* an unusable runtime directory (a shared one of a group this user is not in, say) is said
     * as such, not as the allocator's lock that cannot be taken in it */
    int rc = enclaves_runtime_check();
    if (rc)
        return rc;
    if (which == 0)
        return do_apply(config);
    if (which == 1)
        return print_status();
    return do_release(force);
}

const struct command cmd_allocator = {
    .name = "allocator",
    .run = run_allocator,
    .summary = "reserve hugepages and a CPU pool for enclaves",
    .usage =
        "Usage: alcove allocator apply [--config FILE]\n"
        "       alcove allocator status\n"
        "       alcove allocator release [--force]\n\n"
        "apply reserves what allocator.yaml asks for, as Nitro's nitro-enclaves-allocator does:\n"
        "memory_mib MiB of hugepages (1 GiB pages first, then 2 MiB) and a CPU pool, either\n"
        "cpu_count CPUs in whole cores or the cpulist cpu_pool, never CPU 0's core, all on one\n"
        "NUMA node, where the pages are reserved too. A reservation already there is given\n"
        "back first. FILE defaults to $ALCOVE_ALLOCATOR_CONFIG, then " ALLOC_CONFIG_DEFAULT ".\n"
        "status prints, as JSON, what is reserved, what running enclaves use and what is free.\n"
        "release gives the hugepages back (each count to what it was before apply); it refuses\n"
        "while enclaves hold part of the reservation, unless --force.\n\n"
        "The record is <runtime dir>/allocator.json. Sysfs is read under $ALCOVE_SYSFS_ROOT\n"
        "(default /sys). See docs/allocator.md.\n",
};
