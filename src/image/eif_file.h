/* eif_file.h: reading an EIF from disk, header first.
 *
 * The header (548 bytes) is read and checked against the file's size (fstat) before anything
 * else, then the section headers it points to (12 bytes each, at most 32): a file that is not an
 * EIF, whose section table does not describe exactly its size, or whose sections are of the wrong
 * types, costs a few small reads, whatever its size. Only then is the whole file read into
 * memory.
 */
#ifndef ALCOVE_EIF_FILE_H
#define ALCOVE_EIF_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Reads the EIF at path (a regular file: a FIFO or a directory is refused at once) into a
 * malloc'd buffer. 0; -errno when the file cannot be opened or read (-EINVAL: not a regular
 * file, see fileio_strerror); or an enum eif_error (> 0) when the header is refused, in which
 * case nothing past the header and section headers was read. */
int eif_read_file(const char *path, uint8_t **buf, size_t *size);

/* The same from fd, already open on a regular file of file_size bytes. */
int eif_read_fd(int fd, uint64_t file_size, uint8_t **buf);

#endif
