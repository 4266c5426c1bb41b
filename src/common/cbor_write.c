/* cbor_write.c: appending CBOR items to a growable buffer (see cbor_write.h); heads are encoded by
 * libcbor, which always picks the shortest form except in cbor_encode_uint64. */
#include "common/cbor_write.h"

#include <stdlib.h>
#include <string.h>

/* libcbor's own header by name: another cbor.h (sdk/libnsm) may be on the include path */
#include <cbor/encoding.h>

#define CBOR_HEAD_MAX 9

bool cbuf_reserve(struct cbuf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->cap - b->len >= n)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2)
            goto oom;
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
        goto oom;
    b->p = p;
    b->cap = cap;
    return true;
oom:
    b->oom = true;
    return false;
}

void cbuf_put(struct cbuf *b, const void *data, size_t n)
{
    if (n && cbuf_reserve(b, n)) {
        memcpy(b->p + b->len, data, n);
        b->len += n;
    }
}

void cbw_array(struct cbuf *b, size_t n)
{
    if (cbuf_reserve(b, CBOR_HEAD_MAX))
        b->len += cbor_encode_array_start(n, b->p + b->len, CBOR_HEAD_MAX);
}

void cbw_map(struct cbuf *b, size_t n)
{
    if (cbuf_reserve(b, CBOR_HEAD_MAX))
        b->len += cbor_encode_map_start(n, b->p + b->len, CBOR_HEAD_MAX);
}

void cbw_uint(struct cbuf *b, uint64_t v)
{
    if (cbuf_reserve(b, CBOR_HEAD_MAX))
        b->len += cbor_encode_uint(v, b->p + b->len, CBOR_HEAD_MAX);
}

void cbw_uint64_wide(struct cbuf *b, uint64_t v)
{
    if (cbuf_reserve(b, CBOR_HEAD_MAX))
        b->len += cbor_encode_uint64(v, b->p + b->len, CBOR_HEAD_MAX);
}

void cbw_negint(struct cbuf *b, uint64_t v)
{
    if (cbuf_reserve(b, CBOR_HEAD_MAX))
        b->len += cbor_encode_negint(v, b->p + b->len, CBOR_HEAD_MAX);
}

void cbw_text_n(struct cbuf *b, const char *s, size_t n)
{
    if (cbuf_reserve(b, CBOR_HEAD_MAX))
        b->len += cbor_encode_string_start(n, b->p + b->len, CBOR_HEAD_MAX);
    cbuf_put(b, s, n);
}

void cbw_text(struct cbuf *b, const char *s)
{
    cbw_text_n(b, s, strlen(s));
}

void cbw_bytes(struct cbuf *b, const void *data, size_t n)
{
    if (cbuf_reserve(b, CBOR_HEAD_MAX))
        b->len += cbor_encode_bytestring_start(n, b->p + b->len, CBOR_HEAD_MAX);
    cbuf_put(b, data, n);
}

void cbw_bool(struct cbuf *b, bool v)
{
    if (cbuf_reserve(b, 1))
        b->len += cbor_encode_bool(v, b->p + b->len, 1);
}

void cbw_null(struct cbuf *b)
{
    if (cbuf_reserve(b, 1))
        b->len += cbor_encode_null(b->p + b->len, 1);
}
