/* cpio_write.h: writing deterministic newc ("070701") cpio archives: inode numbers counted from
 * 1, uid/gid 0, mtime 0, nlink 1 (2 for directories), device 0, entries in the order given,
 * "TRAILER!!!" at the end. Read back by lib/cpio. */
#ifndef ALCOVE_CPIO_WRITE_H
#define ALCOVE_CPIO_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct cpio_writer {
    uint8_t *buf;
    size_t len, cap;
    uint32_t next_ino;
    int failed; /* out of memory: every later call does nothing; cpio_finish fails */
};

void cpio_writer_init(struct cpio_writer *w);
/* mode: S_IFREG/S_IFDIR/S_IFLNK | permissions; data: file bytes or symlink target */
void cpio_add(struct cpio_writer *w, const char *path, uint32_t mode, const void *data,
              size_t size);
/* Appends the trailer; hands the buffer over (*out, malloc'd). 0 or -ENOMEM. */
int cpio_finish(struct cpio_writer *w, uint8_t **out, size_t *out_size);

#endif
