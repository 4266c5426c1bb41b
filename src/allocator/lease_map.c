/* lease_map.c: using a lease (see lease.h): its memory mapped from the host's hugepages, and
 * its CPUs as the affinity of the vCPU threads. One address range is reserved first, aligned
 * to the lease's largest page; each page size's share is then mapped over it with MAP_FIXED,
 * largest first, so the guest sees one contiguous RAM whatever the mix of page sizes. */
#include "allocator/lease.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/why.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#define MPOL_PREFERRED_ 1

/* Asks the kernel to take the range's pages from node (a preference: the pages alcove
 * reserved are there, and the kernel falls back to another node rather than fail). */
static void prefer_node(void *addr, size_t len, int node)
{
    if (node < 0 || node >= 1024)
        return;
    unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {0};
    mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
    syscall(SYS_mbind, addr, len, MPOL_PREFERRED_, mask, 1024ul, 0u);
}

int pool_lease_map(const struct pool_lease *l, struct pool_mem *m, char *why, size_t whylen)
{
    m->host = NULL;
    m->size = 0;
    if (l->fd < 0 || l->nsizes == 0) {
        why_set(why, whylen, "the lease holds no memory");
        return E_ENCLAVE_MMAP;
    }
    uint64_t total = 0, align = l->pages[0].kib * 1024;
    for (unsigned i = 0; i < l->nsizes; i++)
        total += l->pages[i].count * l->pages[i].kib * 1024;
    uint8_t *raw =
        mmap(NULL, total + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) {
        why_set(why, whylen, "cannot reserve %llu MiB of address space: %s",
                (unsigned long long)(total >> 20), strerror(errno));
        return E_ENCLAVE_MMAP;
    }
    uint8_t *base = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    if (base > raw)
        munmap(raw, (size_t)(base - raw));
    if (raw + total + align > base + total)
        munmap(base + total, (size_t)(raw + total + align - (base + total)));
    uint64_t off = 0;
    for (unsigned i = 0; i < l->nsizes; i++) {
        uint64_t bytes = l->pages[i].count * l->pages[i].kib * 1024;
        int shift = __builtin_ctzll(l->pages[i].kib * 1024);
        void *p =
            mmap(base + off, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_HUGETLB | (shift << MAP_HUGE_SHIFT),
                 -1, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            munmap(base, total);
            unsigned long long kib = (unsigned long long)l->pages[i].kib;
            if (err == ENOMEM) {
                why_set(why, whylen,
                        "the host has fewer than %llu free hugepages of %llu %s left: another "
                        "program took some of the enclaves' reservation (see free_hugepages)",
                        (unsigned long long)l->pages[i].count,
                        kib >= 1048576 ? kib >> 20 : kib >> 10, kib >= 1048576 ? "GiB" : "MiB");
                return E_INSUFFICIENT_MEMORY_AVAILABLE;
            }
            why_set(why, whylen, "mmap of %llu hugepages of %llu KiB: %s",
                    (unsigned long long)l->pages[i].count, kib, strerror(err));
            return E_ENCLAVE_MMAP;
        }
        off += bytes;
    }
    prefer_node(base, total, l->node);
    m->host = base;
    m->size = total;
    return 0;
}

void pool_mem_unmap(struct pool_mem *m)
{
    if (m->host)
        munmap(m->host, m->size);
    m->host = NULL;
    m->size = 0;
}

int pool_pin_thread(pthread_t thread, uint32_t cpu)
{
    if (cpu >= CPU_SETSIZE)
        return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return -pthread_setaffinity_np(thread, sizeof(set), &set);
}
