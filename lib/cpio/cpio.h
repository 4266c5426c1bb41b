/* cpio.h: strict reader of newc ("070701") cpio archives, shared by the host and the enclave
 * kernel (which serves the application ramdisk as its root file system straight from it). Needs
 * no C library and never reads outside the buffer. */
#ifndef ALCOVE_CPIO_H
#define ALCOVE_CPIO_H

#include <stddef.h>
#include <stdint.h>

struct cpio_entry {
    const char *name; /* not NUL-terminated */
    size_t name_len;  /* without the NUL */
    uint32_t mode;
    uint32_t uid, gid, nlink;
    uint64_t mtime;
    const uint8_t *data; /* file bytes or symlink target */
    uint64_t size;
};

enum cpio_status {
    CPIO_ENTRY = 0,      /* *e holds the next entry */
    CPIO_END = 1,        /* the trailer was reached */
    CPIO_MALFORMED = -1, /* bad magic, bad hex, a name or data past the end, no NUL */
};

/* Reads the entry at *pos and advances *pos past it (4-byte aligned). */
enum cpio_status cpio_next(const uint8_t *buf, size_t size, size_t *pos, struct cpio_entry *e);

#endif
