/* sysfs.h: the allocator's only access to sysfs. Every path is relative to a root, "/sys"
 * unless $ALCOVE_SYSFS_ROOT names another directory (a fake tree, for tests): the allocator
 * never reads or writes the host's CPU topology or hugepage counts by an absolute path. */
#ifndef ALCOVE_ALLOCATOR_SYSFS_H
#define ALCOVE_ALLOCATOR_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The root: $ALCOVE_SYSFS_ROOT (read at each call, trailing '/' dropped), else "/sys". */
const char *sysfs_root(void);

/* Writes "<root>/<rel>" into buf. 0, or -1 when it does not fit. rel is printf-style. */
int sysfs_path(char *buf, size_t size, const char *rel_fmt, ...)
    __attribute__((format(printf, 3, 4)));

bool sysfs_exists(const char *rel);
/* Reads the file at <root>/<rel> (at most size - 1 bytes, NUL-terminated). Bytes read, or
 * -errno. */
long sysfs_read(const char *rel, char *buf, size_t size);
/* Reads a decimal number (a trailing newline allowed). 0 or -errno (-EINVAL: not a number). */
int sysfs_read_u64(const char *rel, uint64_t *out);
/* Writes a decimal number and a newline, as `echo N > file` does. 0 or -errno. */
int sysfs_write_u64(const char *rel, uint64_t value);

#endif
