/* cpio_write.c: deterministic newc cpio archives in a growable memory buffer. */
#include "image/cpio_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CPIO_HEADER_LEN 110 /* "070701" and 13 fields of 8 hex digits */

void cpio_writer_init(struct cpio_writer *w)
{
    memset(w, 0, sizeof(*w));
    w->next_ino = 1;
}

/* Makes room for n more bytes; on failure marks the writer failed. */
static int reserve(struct cpio_writer *w, size_t n)
{
    if (w->failed)
        return -1;
    if (n > SIZE_MAX - w->len) {
        w->failed = ENOMEM;
        return -1;
    }
    if (w->len + n <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + n) {
        if (cap > SIZE_MAX / 2) {
            cap = w->len + n;
            break;
        }
        cap *= 2;
    }
    uint8_t *nb = realloc(w->buf, cap);
    if (!nb) {
        w->failed = ENOMEM;
        return -1;
    }
    w->buf = nb;
    w->cap = cap;
    return 0;
}

static void append(struct cpio_writer *w, const void *p, size_t n)
{
    if (n == 0 || reserve(w, n) < 0)
        return;
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

/* Zero bytes up to the next multiple of 4. */
static void pad4(struct cpio_writer *w)
{
    static const uint8_t zeros[4];
    append(w, zeros, (4 - (w->len & 3)) & 3);
}

static void add_entry(struct cpio_writer *w, const char *path, uint32_t mode, uint32_t ino,
                      const void *data, size_t size)
{
    if (w->failed)
        return;
    size_t namesize = strlen(path) + 1;
    if ((uint64_t)size > UINT32_MAX || namesize > UINT32_MAX) {
        w->failed = EFBIG;
        return;
    }
    char hdr[CPIO_HEADER_LEN + 1];
    uint32_t nlink = S_ISDIR(mode) ? 2 : 1;
    snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino,
             mode, 0u, 0u, nlink, 0u, (uint32_t)size, 0u, 0u, 0u, 0u, (uint32_t)namesize, 0u);
    append(w, hdr, CPIO_HEADER_LEN);
    append(w, path, namesize);
    pad4(w);
    append(w, data, size);
    pad4(w);
}

void cpio_add(struct cpio_writer *w, const char *path, uint32_t mode, const void *data, size_t size)
{
    if (w->failed)
        return;
    if (S_ISDIR(mode))
        size = 0;
    add_entry(w, path, mode, w->next_ino++, data, size);
}

int cpio_finish(struct cpio_writer *w, uint8_t **out, size_t *out_size)
{
    add_entry(w, "TRAILER!!!", 0, 0, NULL, 0);
    if (w->failed) {
        int err = w->failed;
        free(w->buf);
        cpio_writer_init(w);
        *out = NULL;
        *out_size = 0;
        return -err;
    }
    *out = w->buf;
    *out_size = w->len;
    cpio_writer_init(w);
    return 0;
}
