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

void cpio_writer_init_by_reference(struct cpio_writer *w)
{
    cpio_writer_init(w);
    w->by_ref = true;
}

/* Adds a piece: bytes of buf from offset off (in_buf), or the caller's data. */
static void add_piece(struct cpio_writer *w, const void *base, size_t len, bool in_buf)
{
    if (w->failed || len == 0)
        return;
    if (w->niov == w->iovcap) {
        size_t cap = w->iovcap ? w->iovcap * 2 : 64;
        struct iovec *iov = realloc(w->iov, cap * sizeof(*iov));
        bool *ib = iov ? realloc(w->in_buf, cap * sizeof(*ib)) : NULL;
        if (iov)
            w->iov = iov;
        if (!iov || !ib) {
            w->failed = ENOMEM;
            return;
        }
        w->in_buf = ib;
        w->iovcap = cap;
    }
    w->iov[w->niov] = (struct iovec){(void *)base, len};
    w->in_buf[w->niov++] = in_buf;
}

/* Closes the run of buf written since the last piece. */
static void flush_run(struct cpio_writer *w)
{
    if (w->len > w->mark)
        add_piece(w, (const void *)(uintptr_t)w->mark, w->len - w->mark, true);
    w->mark = w->len;
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
    w->pos += n;
}

/* File data: copied, or (by reference, when large enough to be worth a piece) referred to. */
static void append_data(struct cpio_writer *w, const void *p, size_t n)
{
    if (!w->by_ref || n < 4096) {
        append(w, p, n);
        return;
    }
    flush_run(w);
    add_piece(w, p, n, false);
    w->pos += n;
}

/* Zero bytes up to the next multiple of 4 of the archive's position. */
static void pad4(struct cpio_writer *w)
{
    static const uint8_t zeros[4];
    append(w, zeros, (4 - (w->pos & 3)) & 3);
}

static void add_entry(struct cpio_writer *w, const char *path, uint32_t mode, uint32_t ino,
                      const void *data, size_t size, bool ref)
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
    if (ref)
        append_data(w, data, size);
    else
        append(w, data, size);
    pad4(w);
}

void cpio_add(struct cpio_writer *w, const char *path, uint32_t mode, const void *data, size_t size)
{
    if (w->failed)
        return;
    if (S_ISDIR(mode))
        size = 0;
    add_entry(w, path, mode, w->next_ino++, data, size, false);
}

void cpio_add_ref(struct cpio_writer *w, const char *path, uint32_t mode, const void *data,
                  size_t size)
{
    if (w->failed)
        return;
    if (S_ISDIR(mode))
        size = 0;
    add_entry(w, path, mode, w->next_ino++, data, size, true);
}

int cpio_finish(struct cpio_writer *w, uint8_t **out, size_t *out_size)
{
    add_entry(w, "TRAILER!!!", 0, 0, NULL, 0, false);
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

int cpio_finish_pieces(struct cpio_writer *w, struct iovec **iov, int *n, uint8_t **own,
                       uint64_t *total)
{
    add_entry(w, "TRAILER!!!", 0, 0, NULL, 0, false);
    flush_run(w);
    int err = w->failed;
    if (!err && w->niov > INT32_MAX)
        err = EFBIG;
    if (err) {
        free(w->buf);
        free(w->iov);
        free(w->in_buf);
        cpio_writer_init_by_reference(w);
        return -err;
    }
    /* buf does not move any more: offsets become pointers */
    for (size_t i = 0; i < w->niov; i++)
        if (w->in_buf[i])
            w->iov[i].iov_base = w->buf + (uintptr_t)w->iov[i].iov_base;
    *iov = w->iov;
    *n = (int)w->niov;
    *own = w->buf;
    *total = w->pos;
    free(w->in_buf);
    cpio_writer_init_by_reference(w);
    return 0;
}
