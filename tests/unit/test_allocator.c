/* test_allocator.c: the allocator (src/allocator) against fake sysfs trees made in a temporary
 * directory (ALCOVE_SYSFS_ROOT) and a temporary runtime directory (ALCOVE_RUNTIME_DIR):
 * allocator.yaml parsing, good and malformed; cpulists; choosing and checking the CPU pool
 * (hyperthreads, CPU 0's core, NUMA nodes); reserving hugepages (largest first, a shortfall
 * rolled back, giving back); apply/status/release; the leases between enclaves (the third one
 * refused with what is free, a dead owner's lease ignored) and mapping a lease's memory. The
 * kernel's partial grants of hugepages are simulated by wrapping sysfs_write_u64 (-Wl,--wrap).
 * With ALCOVE_ALLOCATOR_LIVE=1 it runs only the live check the root-only integration test
 * uses: a lease of the real reservation mapped, touched and pinned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocator/config.h"
#include "allocator/cpulist.h"
#include "allocator/cpupool.h"
#include "allocator/hugepages.h"
#include "allocator/lease.h"
#include "allocator/pool.h"
#include "allocator/sysfs.h"
#include "allocator/topology.h"
#include "common/errors.h"

/* ---- simulated kernel: caps on what nr_hugepages accepts, by page size ---- */

static uint64_t g_cap_2m = UINT64_MAX, g_cap_1g = UINT64_MAX;

int __real_sysfs_write_u64(const char *rel, uint64_t value);
int __wrap_sysfs_write_u64(const char *rel, uint64_t value);
int __wrap_sysfs_write_u64(const char *rel, uint64_t value)
{
    if (strstr(rel, "hugepages-2048kB/") && value > g_cap_2m)
        value = g_cap_2m;
    if (strstr(rel, "hugepages-1048576kB/") && value > g_cap_1g)
        value = g_cap_1g;
    return __real_sysfs_write_u64(rel, value);
}

/* ---- fake sysfs trees ---- */

static char g_base[256]; /* the test's temporary directory */
static char g_root[512]; /* the current fake sysfs root */
static char g_run[512];  /* the runtime directory */

static void mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

static void put(const char *rel, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *rel, const char *fmt, ...)
{
    char path[PATH_MAX], dir[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", g_root, rel);
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = 0;
    mkdirs(dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static uint64_t get(const char *rel)
{
    uint64_t v = 0;
    assert_int_equal(sysfs_read_u64(rel, &v), 0);
    return v;
}

static void new_root(const char *name)
{
    snprintf(g_root, sizeof(g_root), "%s/%s", g_base, name);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_root);
    assert_int_equal(system(cmd), 0);
    mkdirs(g_root);
    setenv("ALCOVE_SYSFS_ROOT", g_root, 1);
}

static void cpu(unsigned n, const char *siblings, unsigned core, unsigned pkg)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/topology/thread_siblings_list", n);
    if (siblings)
        put(rel, "%s\n", siblings);
    snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/topology/core_id", n);
    put(rel, "%u\n", core);
    snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/topology/physical_package_id", n);
    put(rel, "%u\n", pkg);
}

static void node_pages(int node, uint64_t nr2m, int with_1g)
{
    char rel[160];
    hugepages_rel(node, 2048, "nr_hugepages", rel, sizeof(rel));
    put(rel, "%llu\n", (unsigned long long)nr2m);
    if (with_1g) {
        hugepages_rel(node, 1048576, "nr_hugepages", rel, sizeof(rel));
        put(rel, "0\n");
    }
}

/* One node, 4 cores with 2 threads each, numbered as Intel does: core k is CPUs k and k+4. */
static void tree_ht4(int with_1g)
{
    new_root("ht4");
    put("devices/system/cpu/online", "0-7\n");
    for (unsigned k = 0; k < 4; k++) {
        char sib[16];
        snprintf(sib, sizeof(sib), "%u,%u", k, k + 4);
        cpu(k, sib, k, 0);
        cpu(k + 4, sib, k, 0);
    }
    put("devices/system/node/node0/cpulist", "0-7\n");
    node_pages(0, 0, with_1g);
}

/* Two nodes, 4 CPUs each, no hyperthreads. */
static void tree_numa2(void)
{
    new_root("numa2");
    put("devices/system/cpu/online", "0-7\n");
    for (unsigned c = 0; c < 8; c++) {
        char sib[8];
        snprintf(sib, sizeof(sib), "%u", c);
        cpu(c, sib, c % 4, c / 4);
    }
    put("devices/system/node/node0/cpulist", "0-3\n");
    put("devices/system/node/node1/cpulist", "4-7\n");
    node_pages(0, 0, 0);
    node_pages(1, 0, 0);
}

/* No NUMA directory, 2 CPUs, no siblings files (core ids only): like this test machine. */
static void tree_flat2(void)
{
    new_root("flat2");
    put("devices/system/cpu/online", "0-1\n");
    cpu(0, NULL, 0, 0);
    cpu(1, NULL, 1, 0);
    node_pages(-1, 0, 1);
}

static void clean_runtime(void)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/leases' '%s/allocator.json'", g_run, g_run);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    g_cap_2m = g_cap_1g = UINT64_MAX;
    clean_runtime();
    return 0;
}

/* ---- allocator.yaml ---- */

static int parse(const char *text, struct alloc_config *c, char *why, size_t n)
{
    why[0] = 0;
    return alloc_config_parse(text, strlen(text), c, why, n);
}

static void test_config_good(void **state)
{
    (void)state;
    struct alloc_config c;
    char why[256];
    assert_int_equal(parse("memory_mib: 512\ncpu_count: 2\n", &c, why, sizeof(why)), 0);
    assert_int_equal(c.memory_mib, 512);
    assert_int_equal(c.cpu_count, 2);
    assert_true(cpuset_empty(&c.cpu_pool));

    assert_int_equal(parse("---\n# Enclave configuration file.\nmemory_mib: 8192\n"
                           "cpu_pool: \"2,3,6-9\"\n",
                           &c, why, sizeof(why)),
                     0);
    assert_int_equal(c.memory_mib, 8192);
    assert_int_equal(c.cpu_count, 0);
    char list[64];
    cpulist_format(&c.cpu_pool, list, sizeof(list));
    assert_string_equal(list, "2-3,6-9");

    /* unquoted cpulists and a single CPU are strings to YAML too */
    assert_int_equal(parse("cpu_pool: 2,3\nmemory_mib: 64", &c, why, sizeof(why)), 0);
    assert_int_equal(cpuset_count(&c.cpu_pool), 2);
    assert_int_equal(parse("{memory_mib: 64, cpu_pool: 5}", &c, why, sizeof(why)), 0);
    assert_true(cpuset_has(&c.cpu_pool, 5));
}

/* Each malformed text fails, and the reason holds the expected words. */
static void expect_bad(const char *text, const char *words)
{
    struct alloc_config c;
    char why[256];
    if (parse(text, &c, why, sizeof(why)) == 0)
        fail_msg("accepted: %s", text);
    if (!strstr(why, words))
        fail_msg("for %s: reason '%s' lacks '%s'", text, why, words);
    assert_int_equal(c.memory_mib, 0);
}

static void test_config_bad(void **state)
{
    (void)state;
    expect_bad("memory_mib: 512\ncpu_count: 2\ncpus: 4\n", "line 3: unknown key 'cpus'");
    expect_bad("memory_mib: 512\ncpu_count: 2\ncpu_pool: \"2,3\"\n",
               "line 3: cpu_pool and cpu_count (line 2) are both given");
    expect_bad("memory_mib: 512\n", "neither cpu_count nor cpu_pool");
    expect_bad("cpu_count: 2\n", "memory_mib is missing");
    expect_bad("memory_mib: lots\ncpu_count: 2\n", "line 1: memory_mib must be a positive integer");
    expect_bad("memory_mib: 1.5\ncpu_count: 2\n", "line 1: memory_mib must be a positive integer");
    expect_bad("memory_mib: 8G\ncpu_count: 2\n", "line 1: memory_mib must be a positive integer");
    expect_bad("memory_mib: 512\ncpu_count: -2\n", "line 2: cpu_count must be a positive integer");
    expect_bad("memory_mib: 0\ncpu_count: 2\n", "line 1: memory_mib must be between 1 and");
    expect_bad("memory_mib: 512\ncpu_count: 99999999999999999999\n", "line 2: cpu_count");
    expect_bad("memory_mib: \"512\"\ncpu_count: 2\n", "must be a number, not the string");
    expect_bad("memory_mib:\ncpu_count: 2\n", "line 1: memory_mib has no value");
    expect_bad("memory_mib: [512]\ncpu_count: 2\n", "memory_mib must be a number, not a list");
    expect_bad("", "the file is empty");
    expect_bad("# only a comment\n", "the file is empty");
    expect_bad("- memory_mib: 5\n", "line 1: expected a mapping");
    expect_bad("memory_mib: 512\nmemory_mib: 1024\ncpu_count: 2\n",
               "line 2: memory_mib is given twice (first on line 1)");
    expect_bad("memory_mib: 512\ncpu_pool: \"2-\"\n", "line 2: cpu_pool: '2-' is not");
    expect_bad("memory_mib: 512\ncpu_pool: \"3-1\"\n", "line 2: cpu_pool: '3-1' is not");
    expect_bad("memory_mib: 512\ncpu_pool: \"1,,2\"\n", "line 2: cpu_pool:");
    expect_bad("memory_mib: 512\ncpu_pool: \"two\"\n", "line 2: cpu_pool: 'two' is not");
    expect_bad("memory_mib: 512\ncpu_pool: \"\"\n", "line 2: cpu_pool is empty");
    expect_bad("memory_mib: 512\ncpu_pool: [2, 3]\n", "cpu_pool must be a cpulist string");
    expect_bad("memory_mib: 512\ncpu_count: 2\n  bad: indent\n", "line 3: YAML syntax error");
    expect_bad("memory_mib: 512\ncpu_count: 2\n---\nmemory_mib: 4\n", "second YAML document");
    expect_bad("memory_mib: [\n", "YAML syntax error");
}

static void test_config_load(void **state)
{
    (void)state;
    char path[PATH_MAX], why[256];
    snprintf(path, sizeof(path), "%s/allocator.yaml", g_base);
    FILE *f = fopen(path, "w");
    fputs("memory_mib: 128\ncpu_count: 1\n", f);
    fclose(f);
    struct alloc_config c;
    assert_int_equal(alloc_config_load(path, &c, why, sizeof(why)), 0);
    assert_int_equal(c.memory_mib, 128);
    snprintf(path, sizeof(path), "%s/missing.yaml", g_base);
    assert_int_equal(alloc_config_load(path, &c, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "cannot open"));

    unsetenv("ALCOVE_ALLOCATOR_CONFIG");
    assert_string_equal(alloc_config_path(NULL), ALLOC_CONFIG_DEFAULT);
    setenv("ALCOVE_ALLOCATOR_CONFIG", "/x/env.yaml", 1);
    assert_string_equal(alloc_config_path(NULL), "/x/env.yaml");
    assert_string_equal(alloc_config_path("/x/flag.yaml"), "/x/flag.yaml");
    unsetenv("ALCOVE_ALLOCATOR_CONFIG");
}

static void test_cpulist(void **state)
{
    (void)state;
    struct cpuset s;
    char why[200], out[64];
    assert_int_equal(cpulist_parse("0-3,8,10-11\n", 12, &s, why, sizeof(why)), 0);
    assert_int_equal(cpuset_count(&s), 7);
    assert_int_equal(cpulist_format(&s, out, sizeof(out)), 0);
    assert_string_equal(out, "0-3,8,10-11");
    assert_int_equal(cpulist_parse(" 5 , 7 ", 7, &s, why, sizeof(why)), 0);
    assert_int_equal(cpulist_format(&s, out, sizeof(out)), 0);
    assert_string_equal(out, "5,7");
    assert_int_equal(cpulist_parse("\n", 1, &s, why, sizeof(why)), 0);
    assert_true(cpuset_empty(&s));
    assert_int_equal(cpulist_parse("4096", 4, &s, why, sizeof(why)), -1);
    assert_int_equal(cpulist_parse("1-2-3", 5, &s, why, sizeof(why)), -1);
    assert_int_equal(cpulist_parse(",1", 2, &s, why, sizeof(why)), -1);
    assert_int_equal(cpulist_parse("1,", 2, &s, why, sizeof(why)), -1);
    assert_int_equal(cpulist_parse("4000-4095", 9, &s, why, sizeof(why)), 0);
    assert_int_equal(cpuset_next(&s, 0), 4000);
    assert_int_equal(cpuset_count(&s), 96);
}

/* ---- the CPU pool ---- */

static int choose(unsigned count, char *list, size_t n, int *node, char *why, size_t whylen)
{
    struct host_topology *t = malloc(sizeof(*t));
    assert_int_equal(topology_read(t, why, whylen), 0);
    struct cpuset pool;
    int idx = -1;
    int rc = cpupool_choose(t, count, &pool, &idx, why, whylen);
    cpulist_format(&pool, list, n);
    *node = idx >= 0 ? (int)t->node_id[idx] : -1;
    topology_free(t);
    free(t);
    return rc;
}

static int check(const char *want, int *node, char *why, size_t whylen)
{
    struct host_topology *t = malloc(sizeof(*t));
    assert_int_equal(topology_read(t, why, whylen), 0);
    struct cpuset pool;
    assert_int_equal(cpulist_parse(want, strlen(want), &pool, NULL, 0), 0);
    int idx = -1;
    int rc = cpupool_check(t, &pool, &idx, why, whylen);
    *node = idx >= 0 ? (int)t->node_id[idx] : -1;
    topology_free(t);
    free(t);
    return rc;
}

static void test_topology_ht4(void **state)
{
    (void)state;
    tree_ht4(0);
    struct host_topology *t = malloc(sizeof(*t));
    char why[256], list[64];
    assert_int_equal(topology_read(t, why, sizeof(why)), 0);
    assert_true(t->numa);
    assert_int_equal(t->ncores, 4);
    assert_int_equal(t->threads_per_core, 2);
    cpulist_format(topology_cpu0_core(t), list, sizeof(list));
    assert_string_equal(list, "0,4");
    topology_free(t);
    free(t);
}

static void test_choose_ht4(void **state)
{
    (void)state;
    tree_ht4(0);
    char why[256], list[64];
    int node;
    assert_int_equal(choose(2, list, sizeof(list), &node, why, sizeof(why)), 0);
    assert_string_equal(list, "1,5"); /* CPU 0's core (0,4) is skipped */
    assert_int_equal(node, 0);
    assert_int_equal(choose(6, list, sizeof(list), &node, why, sizeof(why)), 0);
    assert_string_equal(list, "1-3,5-7");
    assert_int_equal(choose(3, list, sizeof(list), &node, why, sizeof(why)),
                     E_INVALID_CPU_CONFIGURATION);
    assert_non_null(strstr(why, "not a multiple of the host's 2 threads per core"));
    assert_int_equal(choose(8, list, sizeof(list), &node, why, sizeof(why)),
                     E_INSUFFICIENT_CPUS_AVAILABLE);
    assert_non_null(strstr(why, "the host has 6 CPUs in whole cores outside CPU 0's core (0,4)"));
}

static void test_choose_numa(void **state)
{
    (void)state;
    tree_numa2();
    char why[256], list[64];
    int node;
    assert_int_equal(choose(3, list, sizeof(list), &node, why, sizeof(why)), 0);
    assert_string_equal(list, "1-3");
    assert_int_equal(node, 0);
    /* node 0 has only 3 outside CPU 0: the pool moves to node 1 whole */
    assert_int_equal(choose(4, list, sizeof(list), &node, why, sizeof(why)), 0);
    assert_string_equal(list, "4-7");
    assert_int_equal(node, 1);
    assert_int_equal(choose(5, list, sizeof(list), &node, why, sizeof(why)),
                     E_INSUFFICIENT_CPUS_AVAILABLE);
    assert_non_null(strstr(why, "no NUMA node has 5 CPUs"));
    assert_non_null(strstr(why, "node 0: 3, node 1: 4"));
}

static void test_check_pool(void **state)
{
    (void)state;
    char why[256];
    int node;
    tree_ht4(0);
    assert_int_equal(check("1,5", &node, why, sizeof(why)), 0);
    assert_int_equal(node, 0);
    assert_int_equal(check("1-3,5-7", &node, why, sizeof(why)), 0);
    assert_int_equal(check("0,1,4,5", &node, why, sizeof(why)), E_INVALID_CPU_CONFIGURATION);
    assert_non_null(strstr(why, "CPU 0 is the host's"));
    assert_int_equal(check("4", &node, why, sizeof(why)), E_INVALID_CPU_CONFIGURATION);
    assert_non_null(strstr(why, "CPU 4 is a hyperthread sibling of CPU 0"));
    assert_int_equal(check("1,2", &node, why, sizeof(why)), E_INVALID_CPU_CONFIGURATION);
    assert_non_null(strstr(why, "CPU 1 is in the pool but its sibling CPU 5 is not"));
    assert_int_equal(check("9", &node, why, sizeof(why)), E_INVALID_CPU_CONFIGURATION);
    assert_non_null(strstr(why, "CPU 9 is not online"));

    tree_numa2();
    assert_int_equal(check("5-6", &node, why, sizeof(why)), 0);
    assert_int_equal(node, 1);
    assert_int_equal(check("3,4", &node, why, sizeof(why)), E_INVALID_CPU_CONFIGURATION);
    assert_non_null(strstr(why, "spans NUMA nodes: CPU 3 is on node 0, CPU 4 on node 1"));

    /* no NUMA directory, no siblings files: cores from core ids, one node */
    tree_flat2();
    assert_int_equal(check("1", &node, why, sizeof(why)), 0);
    assert_int_equal(node, 0);
    char list[64];
    assert_int_equal(choose(1, list, sizeof(list), &node, why, sizeof(why)), 0);
    assert_string_equal(list, "1");
    assert_int_equal(choose(2, list, sizeof(list), &node, why, sizeof(why)),
                     E_INSUFFICIENT_CPUS_AVAILABLE);
    assert_non_null(strstr(why, "the host has 1 CPUs"));
}

/* ---- hugepages ---- */

static void test_hugepages_reserve(void **state)
{
    (void)state;
    char why[256];
    struct hp_reservation r;
    tree_ht4(1);
    const char *n2m = "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages";
    const char *n1g = "devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages";
    /* 3 GiB + 100 MiB: 1 GiB pages first, the rest in 2 MiB pages */
    assert_int_equal(hugepages_reserve(0, 3172, &r, why, sizeof(why)), 0);
    assert_int_equal(get(n1g), 3);
    assert_int_equal(get(n2m), 50);
    assert_int_equal(hugepages_bytes(&r), 3172ull << 20);
    assert_int_equal(hugepages_release(&r, why, sizeof(why)), 0);
    assert_int_equal(get(n1g), 0);
    assert_int_equal(get(n2m), 0);

    /* under 1 GiB: 2 MiB pages only, rounded up; pages already there are kept */
    put(n2m, "10\n");
    assert_int_equal(hugepages_reserve(0, 65, &r, why, sizeof(why)), 0);
    assert_int_equal(get(n2m), 10 + 33);
    assert_int_equal(get(n1g), 0);
    assert_int_equal(r.nsizes, 1);
    assert_int_equal(r.sizes[0].previous, 10);
    assert_int_equal(hugepages_release(&r, why, sizeof(why)), 0);
    assert_int_equal(get(n2m), 10);

    /* the kernel gives one 1 GiB page of 3: the rest comes in 2 MiB pages */
    g_cap_1g = 1;
    assert_int_equal(hugepages_reserve(0, 3072, &r, why, sizeof(why)), 0);
    assert_int_equal(get(n1g), 1);
    assert_int_equal(get(n2m), 10 + 1024);
    assert_int_equal(hugepages_release(&r, why, sizeof(why)), 0);
    assert_int_equal(get(n1g), 0);
    assert_int_equal(get(n2m), 10);

    /* a shortfall: everything goes back, and the reason says how much the host had */
    g_cap_2m = 30;
    assert_int_equal(hugepages_reserve(0, 3072, &r, why, sizeof(why)),
                     E_INSUFFICIENT_MEMORY_AVAILABLE);
    assert_non_null(strstr(why, "the host could give 1064 MiB of the 3072 MiB asked for in "
                                "hugepages on node 0"));
    assert_non_null(strstr(why, "1 of 1 GiB, 20 of 2 MiB"));
    assert_int_equal(get(n1g), 0);
    assert_int_equal(get(n2m), 10);
    assert_int_equal(r.nsizes, 0);

    /* no NUMA directory: the host-wide counts */
    g_cap_1g = g_cap_2m = UINT64_MAX;
    tree_flat2();
    assert_int_equal(hugepages_reserve(-1, 64, &r, why, sizeof(why)), 0);
    assert_int_equal(get("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"), 32);
    g_cap_2m = 0;
    assert_int_equal(hugepages_release(&r, why, sizeof(why)), 0);
    assert_int_equal(get("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"), 0);
    assert_int_equal(hugepages_reserve(-1, 64, &r, why, sizeof(why)),
                     E_INSUFFICIENT_MEMORY_AVAILABLE);
    assert_non_null(strstr(why, "0 MiB of the 64 MiB asked for in hugepages on the host"));

    /* no hugepage directory at all */
    new_root("empty");
    assert_int_equal(hugepages_reserve(-1, 64, &r, why, sizeof(why)),
                     E_INSUFFICIENT_MEMORY_AVAILABLE);
    assert_non_null(strstr(why, "the host offers no hugepages"));
}

/* ---- apply / status / release ---- */

static struct alloc_config cfg(uint64_t mib, unsigned count, const char *pool)
{
    struct alloc_config c;
    memset(&c, 0, sizeof(c));
    c.memory_mib = mib;
    c.cpu_count = count;
    if (pool)
        cpulist_parse(pool, strlen(pool), &c.cpu_pool, NULL, 0);
    return c;
}

static void test_apply_status_release(void **state)
{
    (void)state;
    char why[512];
    tree_ht4(1);
    const char *n2m = "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages";
    put(n2m, "7\n");
    struct alloc_config c = cfg(1124, 4, NULL);
    struct pool_state *st = malloc(sizeof(*st));
    assert_int_equal(pool_apply(&c, "/etc/test.yaml", st, why, sizeof(why)), 0);
    char list[64];
    cpulist_format(&st->cpus, list, sizeof(list));
    assert_string_equal(list, "1-2,5-6");
    assert_int_equal(st->pages.node, 0);
    assert_int_equal(get(n2m), 7 + 50);

    bool reserved;
    struct pool_usage u;
    assert_int_equal(pool_status(&reserved, st, &u, why, sizeof(why)), 0);
    assert_true(reserved);
    assert_int_equal(hugepages_bytes(&st->pages), 1124ull << 20);
    assert_int_equal(st->threads_per_core, 2);
    assert_int_equal(st->core_first[5], 1);
    assert_string_equal(st->config, "/etc/test.yaml");
    assert_string_equal(st->sysfs_root, g_root);
    assert_int_equal(u.nleases, 0);
    pool_usage_free(&u);

    /* applying again replaces the reservation */
    c = cfg(64, 0, "3,7");
    assert_int_equal(pool_apply(&c, "/etc/test.yaml", st, why, sizeof(why)), 0);
    assert_int_equal(get(n2m), 7 + 32);
    assert_int_equal(get("devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages"),
                     0);
    cpulist_format(&st->cpus, list, sizeof(list));
    assert_string_equal(list, "3,7");
    assert_int_equal(st->core_first[7], 3);

    /* a failed apply leaves nothing reserved */
    c = cfg(64, 3, NULL);
    assert_int_equal(pool_apply(&c, "/etc/test.yaml", st, why, sizeof(why)),
                     E_INVALID_CPU_CONFIGURATION);
    assert_int_equal(get(n2m), 7);
    assert_int_equal(pool_status(&reserved, st, &u, why, sizeof(why)), 0);
    assert_false(reserved);

    bool had = true;
    assert_int_equal(pool_release(false, &had, why, sizeof(why)), 0);
    assert_false(had);

    c = cfg(64, 2, NULL);
    assert_int_equal(pool_apply(&c, "/etc/test.yaml", st, why, sizeof(why)), 0);
    /* another sysfs root may not release it */
    setenv("ALCOVE_SYSFS_ROOT", g_base, 1);
    assert_int_equal(pool_release(false, &had, why, sizeof(why)), E_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "set ALCOVE_SYSFS_ROOT="));
    setenv("ALCOVE_SYSFS_ROOT", g_root, 1);
    assert_int_equal(pool_release(false, &had, why, sizeof(why)), 0);
    assert_true(had);
    assert_int_equal(get(n2m), 7);
    free(st);
}

/* ---- leases ---- */

static void apply_ht4_pool(uint64_t mib)
{
    char why[512];
    tree_ht4(0);
    struct alloc_config c = cfg(mib, 4, NULL); /* cores 1,5 and 2,6 */
    assert_int_equal(pool_apply(&c, "t", NULL, why, sizeof(why)), 0);
}

static void test_lease_none(void **state)
{
    (void)state;
    struct pool_lease l;
    char why[256];
    assert_int_equal(pool_acquire(64, 1, NULL, &l, why, sizeof(why)), E_ALLOCATOR_NO_RESERVATION);
    assert_non_null(strstr(why, "ordinary memory"));
    assert_int_equal(l.fd, -1);
    pool_lease_release(&l); /* harmless */
}

static void test_lease_accounting(void **state)
{
    (void)state;
    char why[512];
    apply_ht4_pool(1024);
    struct pool_lease a, b, c;
    assert_int_equal(pool_acquire(400, 2, NULL, &a, why, sizeof(why)), 0);
    assert_int_equal(a.ncpu, 2);
    assert_int_equal(a.cpu_ids[0], 1);
    assert_int_equal(a.cpu_ids[1], 5);
    assert_int_equal(a.mem_mib, 400);
    assert_int_equal(a.node, 0);
    assert_int_equal(pool_acquire(401, 2, NULL, &b, why, sizeof(why)), 0);
    assert_int_equal(b.cpu_ids[0], 2);
    assert_int_equal(b.cpu_ids[1], 6);
    assert_int_equal(b.mem_mib, 402); /* whole 2 MiB pages */

    /* the third is refused, saying what is free */
    assert_int_equal(pool_acquire(400, 0, NULL, &c, why, sizeof(why)),
                     E_INSUFFICIENT_MEMORY_AVAILABLE);
    assert_string_equal(why, "400 MiB requested, 222 MiB free of 1024 in the pool");
    assert_int_equal(c.fd, -1);
    assert_int_equal(pool_acquire(64, 2, NULL, &c, why, sizeof(why)),
                     E_INSUFFICIENT_CPUS_AVAILABLE);
    assert_non_null(strstr(why, "2 CPUs requested, 0 free of 4 in the pool"));

    /* status sees both */
    bool reserved;
    struct pool_state *st = malloc(sizeof(*st));
    struct pool_usage u;
    assert_int_equal(pool_status(&reserved, st, &u, why, sizeof(why)), 0);
    assert_int_equal(u.nleases, 2);
    assert_int_equal(u.mem_mib, 802);
    assert_int_equal(cpuset_count(&u.cpus), 4);
    assert_int_equal(u.leases[0].pid, getpid());
    pool_usage_free(&u);

    /* release refuses while leases are held */
    bool had;
    assert_int_equal(pool_release(false, &had, why, sizeof(why)), E_ALLOCATOR_BUSY);
    assert_non_null(strstr(why, "2 running enclaves hold part of the reservation"));

    /* giving one back makes room */
    pool_lease_release(&a);
    pool_lease_release(&a);
    assert_int_equal(pool_acquire(400, 2, NULL, &c, why, sizeof(why)), 0);
    assert_int_equal(c.cpu_ids[0], 1);
    pool_lease_release(&b);
    pool_lease_release(&c);
    assert_int_equal(pool_status(&reserved, st, &u, why, sizeof(why)), 0);
    assert_int_equal(u.nleases, 0);
    pool_usage_free(&u);
    assert_int_equal(pool_release(false, &had, why, sizeof(why)), 0);
    free(st);
}

static void test_lease_cpu_ids(void **state)
{
    (void)state;
    char why[512];
    apply_ht4_pool(256);
    struct pool_lease a, b;
    uint32_t half[] = {1}, outside[] = {3, 7}, twice[] = {2, 2}, core2[] = {6, 2};
    assert_int_equal(pool_acquire(64, 1, NULL, &a, why, sizeof(why)), E_INVALID_CPU_CONFIGURATION);
    assert_non_null(strstr(why, "not a multiple of the pool's 2 threads per core"));
    assert_int_equal(pool_acquire(64, 1, half, &a, why, sizeof(why)), E_INVALID_CPU_CONFIGURATION);
    assert_non_null(strstr(why, "CPU 1 is asked for without its sibling CPU 5"));
    assert_int_equal(pool_acquire(64, 2, outside, &a, why, sizeof(why)), E_NO_SUCH_CPU_AVAILABLE);
    assert_non_null(strstr(why, "CPU 3 is not in the enclaves' pool (pool: 1-2,5-6)"));
    /* a CPU given twice: nitro-cli's code for it, E20 */
    assert_int_equal(pool_acquire(64, 2, twice, &a, why, sizeof(why)), E_INVALID_CPU_CONFIGURATION);
    assert_int_equal(pool_acquire(64, 2, core2, &a, why, sizeof(why)), 0);
    assert_int_equal(a.cpu_ids[0], 6); /* in the order given */
    assert_int_equal(pool_acquire(64, 2, core2, &b, why, sizeof(why)), E_NO_SUCH_CPU_AVAILABLE);
    assert_non_null(strstr(why, "CPU 6 is used by another enclave"));
    assert_int_equal(pool_acquire(64, 2, NULL, &b, why, sizeof(why)), 0);
    assert_int_equal(b.cpu_ids[0], 1);
    pool_lease_release(&a);
    pool_lease_release(&b);
    bool had;
    assert_int_equal(pool_release(false, &had, why, sizeof(why)), 0);
}

static void test_lease_dead_owner(void **state)
{
    (void)state;
    char why[512];
    apply_ht4_pool(512);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct pool_lease l;
        _exit(pool_acquire(500, 4, NULL, &l, why, sizeof(why)) == 0 ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the child died holding its lease: its file is there, its lock is not */
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/leases", g_run);
    assert_int_equal(access(dir, F_OK), 0);
    bool reserved;
    struct pool_state *st = malloc(sizeof(*st));
    struct pool_usage u;
    assert_int_equal(pool_status(&reserved, st, &u, why, sizeof(why)), 0);
    assert_int_equal(u.nleases, 0);
    pool_usage_free(&u);
    free(st);
    struct pool_lease l;
    assert_int_equal(pool_acquire(500, 4, NULL, &l, why, sizeof(why)), 0);
    pool_lease_release(&l);

    /* --force releases under a live lease */
    assert_int_equal(pool_acquire(64, 2, NULL, &l, why, sizeof(why)), 0);
    bool had;
    assert_int_equal(pool_release(false, &had, why, sizeof(why)), E_ALLOCATOR_BUSY);
    assert_int_equal(pool_release(true, &had, why, sizeof(why)), 0);
    assert_int_equal(get("devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"), 0);
    pool_lease_release(&l);
}

/* Mixed page sizes: 1 GiB pages first, the remainder in 2 MiB pages, rounded up with 2 MiB
 * pages before a 1 GiB page is used. */
static void test_lease_page_sizes(void **state)
{
    (void)state;
    char why[512];
    tree_ht4(1);
    struct alloc_config c = cfg(2048 + 256, 2, NULL);
    assert_int_equal(pool_apply(&c, "t", NULL, why, sizeof(why)), 0);
    struct pool_lease a, b, d;
    assert_int_equal(pool_acquire(1100, 0, NULL, &a, why, sizeof(why)), 0);
    assert_int_equal(a.nsizes, 2);
    assert_int_equal(a.pages[0].kib, 1048576);
    assert_int_equal(a.pages[0].count, 1);
    assert_int_equal(a.pages[1].count, 38);
    /* 300 MiB: only 180 MiB of 2 MiB pages are left, so a 1 GiB page covers the rest */
    assert_int_equal(pool_acquire(300, 0, NULL, &b, why, sizeof(why)), 0);
    assert_int_equal(b.mem_mib, 180 + 1024); /* 90 pages of 2 MiB, then a 1 GiB page */
    assert_int_equal(pool_acquire(1, 0, NULL, &d, why, sizeof(why)),
                     E_INSUFFICIENT_MEMORY_AVAILABLE);
    assert_string_equal(why, "1 MiB requested, 0 MiB free of 2304 in the pool");

    /* mapping: the host's free hugepages decide, and a shortfall is a clear error */
    struct pool_mem m;
    assert_int_equal(pool_lease_map(&a, &m, why, sizeof(why)) != 0 || m.size == 1100ull << 20, 1);
    pool_mem_unmap(&m);
    pool_lease_release(&a);
    pool_lease_release(&b);
    bool had;
    assert_int_equal(pool_release(false, &had, why, sizeof(why)), 0);
}

/* Maps a small lease for real when the host has free 2 MiB hugepages, else expects the clear
 * refusal; the real /sys is only read. */
static void test_lease_map(void **state)
{
    (void)state;
    char why[512];
    apply_ht4_pool(8);
    struct pool_lease l;
    assert_int_equal(pool_acquire(8, 0, NULL, &l, why, sizeof(why)), 0);
    uint64_t free_pages = 0;
    FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
    if (f) {
        if (fscanf(f, "%" SCNu64, &free_pages) != 1)
            free_pages = 0;
        fclose(f);
    }
    struct pool_mem m;
    int rc = pool_lease_map(&l, &m, why, sizeof(why));
    if (free_pages >= 4 && rc == 0) {
        assert_int_equal(m.size, 8 << 20);
        assert_int_equal((uintptr_t)m.host % (2 << 20), 0);
        memset(m.host, 0xa5, m.size);
        pool_mem_unmap(&m);
    } else {
        assert_int_not_equal(rc, 0);
        assert_null(m.host);
        if (rc == E_INSUFFICIENT_MEMORY_AVAILABLE)
            assert_non_null(strstr(why, "free hugepages of 2 MiB"));
    }
    pool_lease_release(&l);
    /* a released lease maps nothing */
    assert_int_equal(pool_lease_map(&l, &m, why, sizeof(why)), E_ENCLAVE_MMAP);
    bool had;
    assert_int_equal(pool_release(false, &had, why, sizeof(why)), 0);
}

static void test_pin(void **state)
{
    (void)state;
    cpu_set_t before;
    assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
    int target = -1;
    for (int c = 0; c < CPU_SETSIZE && target < 0; c++)
        if (CPU_ISSET(c, &before))
            target = c;
    assert_int_equal(pool_pin_thread(pthread_self(), (uint32_t)target), 0);
    cpu_set_t now;
    assert_int_equal(sched_getaffinity(0, sizeof(now), &now), 0);
    assert_int_equal(CPU_COUNT(&now), 1);
    assert_true(CPU_ISSET(target, &now));
    assert_int_equal(pool_pin_thread(pthread_self(), CPU_SETSIZE), -EINVAL);
    assert_int_equal(sched_setaffinity(0, sizeof(before), &before), 0);
}

/* ---- live: the real reservation the integration test applied ---- */

static int live_check(void)
{
    char why[512];
    struct pool_lease l;
    int rc = pool_acquire(16, 1, NULL, &l, why, sizeof(why));
    if (rc) {
        fprintf(stderr, "live: pool_acquire: [ E%02d ] %s\n", rc, why);
        return 1;
    }
    struct pool_mem m;
    rc = pool_lease_map(&l, &m, why, sizeof(why));
    if (rc) {
        fprintf(stderr, "live: pool_lease_map: [ E%02d ] %s\n", rc, why);
        return 1;
    }
    memset(m.host, 0x5a, m.size);
    /* the mapping is hugetlb: smaps says so */
    char line[256], want[64];
    int huge = 0;
    snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)m.host);
    FILE *f = fopen("/proc/self/smaps", "r");
    int in = 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (strchr(line, '-') && strchr(line, ' ') > strchr(line, '-') &&
            strncmp(line, want, strlen(want)) == 0)
            in = 1;
        else if (in && strncmp(line, "KernelPageSize:", 15) == 0) {
            huge = strstr(line, " 2048 kB") != NULL;
            break;
        }
    }
    if (f)
        fclose(f);
    if (!huge) {
        fprintf(stderr, "live: the lease's memory is not in 2 MiB pages\n");
        return 1;
    }
    if (pool_pin_thread(pthread_self(), l.cpu_ids[0]) != 0 || sched_getcpu() != (int)l.cpu_ids[0]) {
        fprintf(stderr, "live: cannot run on CPU %u\n", l.cpu_ids[0]);
        return 1;
    }
    printf("live: 16 MiB of 2 MiB hugepages at %p, pinned to CPU %u\n", (void *)m.host,
           l.cpu_ids[0]);
    pool_mem_unmap(&m);
    pool_lease_release(&l);
    return 0;
}

int main(void)
{
    const char *live = getenv("ALCOVE_ALLOCATOR_LIVE");
    if (live && strcmp(live, "1") == 0)
        return live_check();
    snprintf(g_base, sizeof(g_base), "%s/alcove-alloc-XXXXXX", P_tmpdir);
    if (!mkdtemp(g_base))
        return 1;
    snprintf(g_run, sizeof(g_run), "%s/run", g_base);
    mkdir(g_run, 0700);
    setenv("ALCOVE_RUNTIME_DIR", g_run, 1);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_good),
        cmocka_unit_test(test_config_bad),
        cmocka_unit_test(test_config_load),
        cmocka_unit_test(test_cpulist),
        cmocka_unit_test(test_topology_ht4),
        cmocka_unit_test(test_choose_ht4),
        cmocka_unit_test(test_choose_numa),
        cmocka_unit_test(test_check_pool),
        cmocka_unit_test_setup(test_hugepages_reserve, setup),
        cmocka_unit_test_setup(test_apply_status_release, setup),
        cmocka_unit_test_setup(test_lease_none, setup),
        cmocka_unit_test_setup(test_lease_accounting, setup),
        cmocka_unit_test_setup(test_lease_cpu_ids, setup),
        cmocka_unit_test_setup(test_lease_dead_owner, setup),
        cmocka_unit_test_setup(test_lease_page_sizes, setup),
        cmocka_unit_test_setup(test_lease_map, setup),
        cmocka_unit_test(test_pin),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_base);
    if (system(cmd) != 0)
        failed++;
    return failed;
}
