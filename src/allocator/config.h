/* config.h: the allocator's configuration file, allocator.yaml, in the format of Nitro
 * Enclaves' and Alibaba Cloud Enclave's allocator:
 *
 *     memory_mib: 8192        # required: MiB of hugepages to reserve for enclaves
 *     cpu_count: 4            # either: how many CPUs (whole cores) the pool takes
 *     cpu_pool: "2,3,6-9"     # or: exactly these CPUs (a cpulist)
 *
 * Exactly one of cpu_count and cpu_pool; any other key, a value of the wrong type, a number
 * that is not a positive decimal integer, a key given twice, or anything that is not a mapping
 * at the top is an error whose text names the line. The file is found at --config, else
 * $ALCOVE_ALLOCATOR_CONFIG, else /etc/alcove/allocator.yaml. */
#ifndef ALCOVE_ALLOCATOR_CONFIG_H
#define ALCOVE_ALLOCATOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "allocator/cpulist.h"

#define ALLOC_CONFIG_DEFAULT "/etc/alcove/allocator.yaml"
/* Largest accepted memory_mib: 1 PiB, far above any host, far below any overflow. */
#define ALLOC_CONFIG_MAX_MIB (1ull << 30)
/* Largest accepted file: an allocator.yaml is a few lines. */
#define ALLOC_CONFIG_MAX_BYTES (64 * 1024)

struct alloc_config {
    uint64_t memory_mib;
    unsigned cpu_count;     /* > 0 in cpu_count mode, else 0 */
    struct cpuset cpu_pool; /* non-empty in cpu_pool mode, else empty */
};

/* The path to read: explicit (a --config flag) when non-NULL, else the environment's, else
 * the default. */
const char *alloc_config_path(const char *explicit_path);

/* Parses the text of a file. 0, or -1 with the reason in why ("line 3: unknown key 'cpus'
 * (allowed: memory_mib, cpu_count, cpu_pool)"). */
int alloc_config_parse(const char *text, size_t len, struct alloc_config *out, char *why,
                       size_t whylen);

/* Reads and parses the file at path. 0, or -1 with the reason in why (which names the file
 * only when it cannot be read; the caller prefixes the path). */
int alloc_config_load(const char *path, struct alloc_config *out, char *why, size_t whylen);

#endif
