/* memory.c: guest RAM and the checked translator (see memory.h). */
#include "monitor/memory.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/log.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define HUGE (2ull << 20)

static uint64_t mem_available_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return UINT64_MAX;
    char line[256];
    uint64_t kb = UINT64_MAX;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
            break;
    fclose(f);
    return kb == UINT64_MAX ? kb : kb * 1024;
}

int guest_mem_alloc(struct guest_mem *m, uint64_t size)
{
    uint64_t avail = mem_available_bytes();
    /* keep a margin for the host: the kernel would rather kill us than fail the populate */
    if (avail != UINT64_MAX && (avail < (64ull << 20) || size > avail - (64ull << 20))) {
        alc_err_report(E_INSUFFICIENT_MEMORY_AVAILABLE,
                       "the enclave asks for %" PRIu64 " MiB but the host has %" PRIu64
                       " MiB available",
                       size >> 20, avail >> 20);
        return E_INSUFFICIENT_MEMORY_AVAILABLE;
    }
    uint8_t *raw = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) {
        alc_err_report(E_ENCLAVE_MMAP, "mmap of %" PRIu64 " MiB: %s", size >> 20, strerror(errno));
        return E_ENCLAVE_MMAP;
    }
    uint8_t *aligned = (uint8_t *)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
    if (aligned > raw)
        munmap(raw, (size_t)(aligned - raw));
    size_t tail = (size_t)((raw + size + HUGE) - (aligned + size));
    if (tail)
        munmap(aligned + size, tail);

    if (madvise(aligned, size, MADV_HUGEPAGE))
        alc_log(ALC_LOG_DEBUG, "madvise(MADV_HUGEPAGE): %s", strerror(errno));
    m->host = aligned;
    m->size = size;
    return 0;
}

int guest_mem_populate(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    uint64_t end;
    if (__builtin_add_overflow(gpa, len, &end) || end > m->size)
        return -EINVAL;
    if (madvise(m->host + gpa, len, MADV_POPULATE_WRITE) == 0)
        return 0;
    if (errno != EINVAL)
        return -ENOMEM;
    /* kernels before 5.14: touch every page ourselves */
    for (uint64_t off = 0; off < len; off += 4096)
        __atomic_fetch_add(&m->host[gpa + off], 0, __ATOMIC_RELAXED);
    return 0;
}

void guest_mem_free(struct guest_mem *m)
{
    if (m->host && !m->borrowed)
        munmap(m->host, m->size);
    m->host = NULL;
    m->size = 0;
}

void *gpa_to_host_checked(const struct guest_mem *m, uint64_t gpa, uint64_t len, const char *file,
                          int line)
{
    uint64_t end;
    if (__builtin_add_overflow(gpa, len, &end) || end > m->size) {
        alc_log(ALC_LOG_ERROR,
                "guest address check failed at %s:%d: [%#" PRIx64 ", +%#" PRIx64
                ") is outside guest memory (%#" PRIx64 " bytes)",
                file, line, gpa, len, m->size);
        return NULL;
    }
    return m->host + gpa;
}

uint64_t guest_mem_resident(const struct guest_mem *m)
{
    size_t pages = m->size / 4096;
    unsigned char vec[4096];
    uint64_t resident = 0;
    for (size_t done = 0; done < pages; done += sizeof(vec)) {
        size_t n = pages - done < sizeof(vec) ? pages - done : sizeof(vec);
        if (mincore(m->host + done * 4096, n * 4096, vec))
            return 0;
        for (size_t i = 0; i < n; i++)
            resident += vec[i] & 1;
    }
    return resident * 4096;
}
