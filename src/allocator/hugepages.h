/* hugepages.h: reserving the enclaves' memory as hugepages on one NUMA node, through sysfs
 * (sysfs.h): node<N>/hugepages/hugepages-<size>kB/nr_hugepages, or the host-wide
 * kernel/mm/hugepages/... when the host has no NUMA directory. The largest page size goes
 * first (1 GiB when the amount allows and the host has them), the remainder in 2 MiB pages, as
 * Nitro's allocator does. alcove adds its pages to the count already there (it does not take
 * pages other programs reserved) and remembers that count, to give back exactly what it took. */
#ifndef ALCOVE_ALLOCATOR_HUGEPAGES_H
#define ALCOVE_ALLOCATOR_HUGEPAGES_H

#include <stddef.h>
#include <stdint.h>

#define HP_MAX_SIZES 8

struct hp_size {
    uint64_t kib;      /* page size */
    uint64_t count;    /* pages alcove added */
    uint64_t previous; /* nr_hugepages before alcove wrote it */
};

struct hp_reservation {
    int node; /* NUMA node, -1: host-wide counts (no NUMA directory) */
    unsigned nsizes;
    struct hp_size sizes[HP_MAX_SIZES]; /* largest first; count may be 0 */
};

/* The page sizes (KiB) the host offers for node (or host-wide when node < 0), largest first.
 * Only sizes of at least 2 MiB count. Returns how many (<= max), or -1 (why set) when there is
 * no hugepage directory. */
int hugepages_sizes(int node, uint64_t *kib, unsigned max, char *why, size_t whylen);

/* Reserves mib MiB (rounded up to the smallest page size) on node. On a shortfall every count
 * written is put back and the reason says how much the host could give. 0, or an alcove error
 * code (E27 shortfall, E19 sysfs not writable) with the reason in why. */
int hugepages_reserve(int node, uint64_t mib, struct hp_reservation *r, char *why, size_t whylen);

/* Gives the pages back: each count becomes what it was less what alcove added (the recorded
 * previous value, when nobody else changed it since). 0, or E19 with the reason. Pages a
 * running program still maps are freed by the kernel when it unmaps them. */
int hugepages_release(const struct hp_reservation *r, char *why, size_t whylen);

/* The bytes a reservation holds. */
uint64_t hugepages_bytes(const struct hp_reservation *r);

/* The nr_hugepages path of size kib for node (relative to the sysfs root). */
void hugepages_rel(int node, uint64_t kib, const char *file, char *buf, size_t size);

#endif
