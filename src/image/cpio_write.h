/* cpio_write.h: writing deterministic newc ("070701") cpio archives: inode numbers counted from
 * 1, uid/gid 0, mtime 0, nlink 1 (2 for directories), device 0, entries in the order given,
 * "TRAILER!!!" at the end. Read back by lib/cpio. */
#ifndef ALCOVE_CPIO_WRITE_H
#define ALCOVE_CPIO_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct cpio_writer {
    uint8_t *buf; /* the archive (by reference: its headers, names and padding only) */
    size_t len, cap;
    uint32_t next_ino;
    int failed; /* out of memory: every later call does nothing; cpio_finish fails */
    /* by reference: the archive is pieces, runs of buf and the callers' file data */
    bool by_ref;
    uint64_t pos;      /* bytes of the archive so far */
    size_t mark;       /* buf[mark, len) is not in a piece yet */
    struct iovec *iov; /* iov_base is an offset into buf (until cpio_finish_pieces) or data */
    bool *in_buf;
    size_t niov, iovcap;
};

void cpio_writer_init(struct cpio_writer *w);
/* A writer that does not copy file data: cpio_add's data must outlive the archive, which comes
 * out of cpio_finish_pieces as a list of pieces. For archives of hundreds of MiB. */
void cpio_writer_init_by_reference(struct cpio_writer *w);
/* mode: S_IFREG/S_IFDIR/S_IFLNK | permissions; data: file bytes or symlink target */
void cpio_add(struct cpio_writer *w, const char *path, uint32_t mode, const void *data,
              size_t size);
/* The same, but a writer by reference keeps a pointer to data (which must outlive the archive)
 * instead of copying it. */
void cpio_add_ref(struct cpio_writer *w, const char *path, uint32_t mode, const void *data,
                  size_t size);
/* Appends the trailer; hands the buffer over (*out, malloc'd). 0 or -ENOMEM. */
int cpio_finish(struct cpio_writer *w, uint8_t **out, size_t *out_size);
/* The same for a writer by reference: *iov (malloc'd, n pieces) covers the archive in order,
 * *own (malloc'd) holds the bytes the pieces that are not the callers' point into. Both must be
 * freed; *total is the archive's size. 0 or -ENOMEM / -EFBIG. */
int cpio_finish_pieces(struct cpio_writer *w, struct iovec **iov, int *n, uint8_t **own,
                       uint64_t *total);

#endif
