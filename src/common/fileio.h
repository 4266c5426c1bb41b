/* fileio.h: whole-file reads and all-or-nothing writes for the CLI. */
#ifndef ALCOVE_FILEIO_H
#define ALCOVE_FILEIO_H

#include <stddef.h>
#include <stdint.h>

/* Reads a regular file into a malloc'd buffer (NUL-terminated one past the end). NULL with errno
 * set on failure (EISDIR/EINVAL for something that is not a regular file). A FIFO, socket or
 * device is refused at once: the open never waits for a writer. */
uint8_t *read_file(const char *path, size_t *size);
/* Opens path for reading, as read_file does: -1 with errno EISDIR or EINVAL when it is not a
 * regular file, decided before anything is opened (opening a device or a FIFO can act on it), or
 * EAGAIN when the path was replaced meanwhile. The descriptor is an ordinary blocking one. */
int open_regular(const char *path);
/* strerror, except that EINVAL, which open_regular and read_file give only for a file that is not
 * regular, says so. */
const char *fileio_strerror(int err);

/* Whether path may be replaced by a written file: 0 when it is missing, a regular file or a
 * symbolic link (the link itself is replaced); -EISDIR or -EINVAL (fileio_strerror: not a
 * regular file) for a directory, FIFO, socket or device, which a rename would replace (a
 * --output-file /dev/null run as root made /dev/null an image). */
int output_path_check(const char *path);

/* Writes data to path through a temporary file in the same directory, renamed into place: the
 * file is either complete or untouched, and no temporary is left behind. 0 or -errno; a path
 * output_path_check refuses is refused before anything is made. */
int write_file_atomic(const char *path, const void *data, size_t size, unsigned mode);
/* Turns SIGBUS from a mapped input file that shrank (image/rootfs.c maps large files) into an
 * [ E07 ] message and exit_status, removing a temporary file being filled; and back. */
void fileio_guard_mapped_inputs(int exit_status);
void fileio_unguard_mapped_inputs(void);

/* The same, with the bytes written by fill(fd, arg) (0 or -errno). */
int write_file_atomic_with(const char *path, unsigned mode, int (*fill)(int fd, void *arg),
                           void *arg);

#endif
