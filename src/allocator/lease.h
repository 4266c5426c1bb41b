/* lease.h: what an enclave's monitor takes out of the allocator's reservation, and the API
 * the monitor uses. The whole API, in the order a monitor calls it:
 *
 *     struct pool_lease lease;
 *     char why[256];
 *     int rc = pool_acquire(memory_mib, ncpu, cpu_ids_or_NULL, &lease, why, sizeof(why));
 *     if (rc == E_ALLOCATOR_NO_RESERVATION) -> no reservation: ordinary memory, any CPU
 *                                              (describe-enclaves says so)
 *     else if (rc) -> alc_err_report(rc, "%s", why), fail the launch with rc
 *     struct pool_mem mem;
 *     rc = pool_lease_map(&lease, &mem, why, sizeof(why));  -> guest RAM: mem.host, mem.size
 *     pool_pin_thread(vcpu_thread[i], lease.cpu_ids[i]);     -> each vCPU thread on its CPU
 *     ...
 *     pool_mem_unmap(&mem);
 *     pool_lease_release(&lease);
 *
 * A lease is a file "<runtime dir>/leases/<pid>-<n>.json" (the CPUs, the pages by size, the
 * pid) that its owner keeps flock'ed for the lease's life. When the owner dies, however it
 * dies, the kernel drops the lock, and the next pool_acquire or `alcove allocator release`
 * treats the lease as free and removes its file. The descriptor is close-on-exec; a child
 * forked without exec shares the lock, so daemonize before pool_acquire, or keep the parent
 * alive. Every call is safe between processes (the allocator's lock serializes them) but a
 * struct pool_lease belongs to one thread at a time. */
#ifndef ALCOVE_ALLOCATOR_LEASE_H
#define ALCOVE_ALLOCATOR_LEASE_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "allocator/cpulist.h"
#include "allocator/hugepages.h"

#define POOL_LEASE_MAX_CPUS 256

struct pool_lease {
    int fd; /* the locked lease file; -1 when the lease is not held */
    char path[PATH_MAX];
    uint64_t mem_mib; /* the pages' total: what was asked, rounded up to whole pages */
    int node;         /* the NUMA node of the pages and CPUs; -1 when the host has no NUMA */
    unsigned nsizes;
    struct {
        uint64_t kib;      /* page size */
        uint64_t count;    /* pages of that size */
    } pages[HP_MAX_SIZES]; /* largest first */
    unsigned ncpu;
    uint32_t cpu_ids[POOL_LEASE_MAX_CPUS]; /* ascending, or in the order given */
};

/* Takes mem_mib MiB of the reserved hugepages (largest pages first, the remainder in smaller
 * ones, rounded up to a whole page) and ncpu CPUs of the pool: cpu_ids when given (ncpu of
 * them, each in the pool and free), else the lowest free whole cores. An enclave's CPUs are
 * whole cores of the pool: ncpu must be a multiple of the threads per core, and cpu_ids must
 * hold every sibling of each CPU. ncpu 0: memory only. Returns 0 and fills out, or an alcove
 * error code with the reason in why:
 *   E_ALLOCATOR_NO_RESERVATION     nothing is reserved: the caller runs without the pool
 *   E_INSUFFICIENT_MEMORY_AVAILABLE "4096 MiB requested, 1024 MiB free of 8192 in the pool"
 *   E_INSUFFICIENT_CPUS_AVAILABLE  fewer free CPUs than ncpu
 *   E_NO_SUCH_CPU_AVAILABLE        a cpu_ids entry is not in the pool or is used
 *   E_INVALID_CPU_CONFIGURATION    not whole cores
 *   E_INVALID_ARGUMENT, E_LOCK_ACQUIRE, E_FILE_OPERATION */
int pool_acquire(uint64_t mem_mib, unsigned ncpu, const uint32_t *cpu_ids, struct pool_lease *out,
                 char *why, size_t whylen);

/* Gives the lease back (removes its file, drops its lock). Harmless on a released lease. */
void pool_lease_release(struct pool_lease *l);

/* The lease's memory, mapped. */
struct pool_mem {
    uint8_t *host; /* aligned to the largest page size of the lease */
    uint64_t size; /* bytes: lease->mem_mib MiB */
};

/* Maps the lease's memory as one range of anonymous hugetlb memory (MAP_HUGETLB with each
 * size's MAP_HUGE_* flag): its largest pages first, then the smaller ones after them, all
 * reserved at once by the kernel (so a missing page is this error, not a SIGBUS later) and
 * preferring the lease's NUMA node. Nothing is touched yet (MADV_POPULATE_WRITE backs it, as
 * guest_mem_populate does). 0, or E_INSUFFICIENT_MEMORY_AVAILABLE (the host's free hugepages
 * of a size fall short: another program took them) / E_ENCLAVE_MMAP with the reason. */
int pool_lease_map(const struct pool_lease *l, struct pool_mem *m, char *why, size_t whylen);
void pool_mem_unmap(struct pool_mem *m);

/* Pins thread to one CPU (sched_setaffinity through pthread_setaffinity_np). 0 or -errno. */
int pool_pin_thread(pthread_t thread, uint32_t cpu);

/* ---- for the allocator's own commands (status, release) ---- */

struct pool_state;

struct lease_info {
    long pid;  /* what the file says (its writer's word) */
    uid_t uid; /* the file's owner: whose lease it is (the kernel's word) */
    ino_t ino; /* the file's: a second name of it is not a second lease */
    uint64_t mem_mib;
    struct cpuset cpus;
};

/* What the live leases hold. pages[i] counts pages of the reservation's size i. */
struct pool_usage {
    struct cpuset cpus;
    uint64_t pages[HP_MAX_SIZES];
    uint64_t mem_mib;
    unsigned nleases;
    struct lease_info *leases;
};

/* Reads the live leases against reservation st; with remove_dead, the files of dead owners
 * are removed (call it under the exclusive allocator lock). 0 or -1 (why set). */
int pool_usage_read(const struct pool_state *st, int remove_dead, struct pool_usage *u, char *why,
                    size_t whylen);
void pool_usage_free(struct pool_usage *u);
/* In a shared runtime directory (common/runtime.h), makes "leases" root's and shared the same
 * way, so that every member's monitor can record its lease (root's apply calls it). 0, or -1
 * (why set). Elsewhere it makes the directory if it is missing. */
int pool_leases_prepare(char *why, size_t whylen);

#endif
