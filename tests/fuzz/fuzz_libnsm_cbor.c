/* fuzz_libnsm_cbor.c: libnsm's CBOR decoder and NSM response decoder on arbitrary bytes (what a
 * hostile device could answer). Neither may read out of bounds; what the CBOR decoder accepts
 * is walked in full (iteration, map lookups, typed reads) and re-encoded in shortest form, and
 * that encoding must decode again and re-encode to the same bytes. Accepted responses must have
 * their pointers inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsm_cbor.h"
#include "nsm_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    if (n && (p < data || p + n > data + size))
        abort();
}

/* Re-encodes an accepted item; walks every child on the way. */
static void reencode(const struct cbor_item *it, struct cbor_enc *e, unsigned depth)
{
    struct cbor_iter iter;
    struct cbor_item child;
    uint64_t n = 0;
    bool b;
    if (depth > CBOR_MAX_DEPTH)
        abort();
    switch (it->type) {
    case CBOR_UINT:
        if (cbor_get_uint(it, UINT64_MAX, &n) != CBOR_OK || n != it->val)
            abort();
        cbor_put_uint(e, it->val);
        break;
    case CBOR_NEGINT: {
        /* no encoder call for negative integers: write the head by hand via a uint and patch */
        size_t at = e->len;
        cbor_put_uint(e, it->val);
        if (at < e->cap)
            e->buf[at] |= 0x20;
        break;
    }
    case CBOR_BSTR:
        cbor_put_bstr(e, it->data, it->len);
        break;
    case CBOR_TSTR:
        cbor_put_tstr(e, (const char *)it->data, it->len);
        break;
    case CBOR_ARRAY:
    case CBOR_MAP:
        if (it->type == CBOR_ARRAY)
            cbor_put_array(e, it->count);
        else
            cbor_put_map(e, it->count);
        if (cbor_iter_init(it, &iter) != CBOR_OK)
            abort();
        while (cbor_iter_next(&iter, &child) == CBOR_OK) {
            if (child.end > it->end)
                abort();
            reencode(&child, e, depth + 1);
            n++;
            /* look the text keys up again: found, or refused as a duplicate */
            if (it->type == CBOR_MAP && n % 2 == 1 && child.type == CBOR_TSTR && child.len < 64) {
                char key[64];
                struct cbor_item v;
                memcpy(key, child.data, child.len);
                key[child.len] = 0;
                if (memchr(key, 0, child.len) == NULL) {
                    enum cbor_status st = cbor_map_find(it, key, &v);
                    if (st != CBOR_OK && st != CBOR_E_DUPKEY)
                        abort();
                }
            }
        }
        if (n != (it->type == CBOR_MAP ? 2 * it->count : it->count))
            abort();
        if (it->type == CBOR_ARRAY && it->count > 0 &&
            cbor_array_get(it, it->count - 1, &child) != CBOR_OK)
            abort();
        break;
    case CBOR_SIMPLE:
        if (cbor_is_null(it))
            cbor_put_null(e);
        else if (cbor_get_bool(it, &b) == CBOR_OK)
            cbor_put_bool(e, b);
        else
            abort();
        break;
    default:
        abort(); /* tags are refused */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nsm_response r;
    if (nsm_decode_response(data, size, &r) == ERROR_CODE_SUCCESS) {
        check_inside(r.data, r.data_len, data, size);
        check_inside(r.module_id, r.module_id_len, data, size);
        if (r.kind > NSM_RESP_ERROR)
            abort();
    }

    struct cbor_item top;
    if (cbor_decode(data, size, &top) != CBOR_OK)
        return 0;
    if (top.end != data + size)
        abort();
    /* shortest form is never longer than the input */
    uint8_t *a = malloc(size), *b = malloc(size);
    if (!a || !b)
        abort();
    struct cbor_enc ea, eb;
    cbor_enc_init(&ea, a, size);
    reencode(&top, &ea, 0);
    if (!cbor_enc_ok(&ea))
        abort();
    struct cbor_item again;
    if (cbor_decode(a, ea.len, &again) != CBOR_OK)
        abort();
    cbor_enc_init(&eb, b, size);
    reencode(&again, &eb, 0);
    if (eb.len != ea.len || memcmp(a, b, ea.len) != 0)
        abort();
    free(a);
    free(b);
    return 0;
}
