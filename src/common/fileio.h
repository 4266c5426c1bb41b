/* fileio.h: whole-file reads and all-or-nothing writes for the CLI. */
#ifndef ALCOVE_FILEIO_H
#define ALCOVE_FILEIO_H

#include <stddef.h>
#include <stdint.h>

/* Reads a regular file into a malloc'd buffer (NUL-terminated one past the end). NULL with errno
 * set on failure (EISDIR/EINVAL for something that is not a regular file). */
uint8_t *read_file(const char *path, size_t *size);

/* Writes data to path through a temporary file in the same directory, renamed into place: the
 * file is either complete or untouched, and no temporary is left behind. 0 or -errno. */
int write_file_atomic(const char *path, const void *data, size_t size, unsigned mode);

#endif
