/* cpulist.h: sets of CPU numbers, and the kernel's "cpulist" text form ("0-3,8,10-11") that
 * sysfs files such as thread_siblings_list and node<N>/cpulist use and that allocator.yaml's
 * cpu_pool takes. A set is a fixed bitmap of CPUS_MAX bits: no allocation, copied by value. */
#ifndef ALCOVE_ALLOCATOR_CPULIST_H
#define ALCOVE_ALLOCATOR_CPULIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPUS_MAX 4096u

struct cpuset {
    uint64_t bits[CPUS_MAX / 64];
};

void cpuset_clear(struct cpuset *s);
void cpuset_add(struct cpuset *s, unsigned cpu); /* cpu < CPUS_MAX */
void cpuset_del(struct cpuset *s, unsigned cpu);
bool cpuset_has(const struct cpuset *s, unsigned cpu);
unsigned cpuset_count(const struct cpuset *s);
bool cpuset_empty(const struct cpuset *s);
/* The lowest member >= from, or -1. Iterate: for (c = cpuset_next(s, 0); c >= 0; c =
 * cpuset_next(s, c + 1)). */
int cpuset_next(const struct cpuset *s, unsigned from);
/* a |= b, a &= ~b; whether a is a subset of b; whether they share a member. */
void cpuset_or(struct cpuset *a, const struct cpuset *b);
void cpuset_andnot(struct cpuset *a, const struct cpuset *b);
bool cpuset_subset(const struct cpuset *a, const struct cpuset *b);
bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);

/* Parses a cpulist of len bytes (not necessarily NUL-terminated): comma-separated decimal
 * numbers and ranges "a-b" (a <= b), spaces around items allowed, a trailing newline allowed
 * (as sysfs files end). An empty text is the empty set. 0, or -1 with a reason in why (the
 * offending item) when malformed or a CPU is >= CPUS_MAX. */
int cpulist_parse(const char *text, size_t len, struct cpuset *out, char *why, size_t whylen);

/* Writes the set in the shortest cpulist form ("2-5,8") into buf. 0, or -1 when it does not
 * fit (buf then holds a truncated, NUL-terminated text). */
int cpulist_format(const struct cpuset *s, char *buf, size_t size);

#endif
