/* memory.h: guest RAM and the one checked translator from guest-physical addresses to host
 * pointers. Nothing else in the monitor turns a guest address into a pointer. */
#ifndef ALCOVE_MEMORY_H
#define ALCOVE_MEMORY_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem {
    uint8_t *host; /* start of guest RAM in the monitor's address space (2 MiB aligned) */
    uint64_t size; /* bytes, a multiple of 2 MiB */
    int borrowed;  /* the memory belongs to someone else (the allocator's hugepages): not freed */
};

/* Maps size bytes of anonymous memory for transparent huge pages, after checking that the host
 * has that much available. Nothing is backed yet (see guest_mem_populate). Returns 0 or an
 * alcove error code (already reported). */
int guest_mem_alloc(struct guest_mem *m, uint64_t size);

/* Backs [gpa, gpa + len) with host memory now: on our KVM a guest's first touch of a page the
 * host has not backed costs a trap per 4 KiB, a populated huge page costs nothing. 0, -EINVAL
 * (outside guest RAM) or -ENOMEM. */
int guest_mem_populate(struct guest_mem *m, uint64_t gpa, uint64_t len);
void guest_mem_free(struct guest_mem *m);

/* Returns the host pointer for [gpa, gpa + len) when that range lies entirely in guest RAM,
 * else NULL after logging the bad access with the caller's file and line. Overflow-safe. */
void *gpa_to_host_checked(const struct guest_mem *m, uint64_t gpa, uint64_t len, const char *file,
                          int line);
#define GPA_PTR(m, gpa, len) gpa_to_host_checked((m), (gpa), (len), __FILE__, __LINE__)

/* Bytes of guest RAM the host has actually backed (resident), for the memory benchmark. */
uint64_t guest_mem_resident(const struct guest_mem *m);

#endif
