/* cbor_read.c: the pull reader of cbor_read.h. libcbor's streaming decoder reports one item head
 * per call through callbacks; each callback records the kind and value in a struct cb_item.
 * Indefinite-length items make the item CB_BAD, which cb_next refuses. */
#include "common/cbor_read.h"

#include <string.h>

/* libcbor's own headers by name: another cbor.h (sdk/libnsm) may be on the include path */
#include <cbor/callbacks.h>
#include <cbor/streaming.h>

static void cb_set(void *ctx, enum cb_kind kind, uint64_t val)
{
    struct cb_item *it = ctx;
    it->kind = kind;
    it->val = val;
}

static void on_uint8(void *ctx, uint8_t v)
{
    cb_set(ctx, CB_UINT, v);
}
static void on_uint16(void *ctx, uint16_t v)
{
    cb_set(ctx, CB_UINT, v);
}
static void on_uint32(void *ctx, uint32_t v)
{
    cb_set(ctx, CB_UINT, v);
}
static void on_uint64(void *ctx, uint64_t v)
{
    cb_set(ctx, CB_UINT, v);
}
static void on_negint8(void *ctx, uint8_t v)
{
    cb_set(ctx, CB_NEGINT, v);
}
static void on_negint16(void *ctx, uint16_t v)
{
    cb_set(ctx, CB_NEGINT, v);
}
static void on_negint32(void *ctx, uint32_t v)
{
    cb_set(ctx, CB_NEGINT, v);
}
static void on_negint64(void *ctx, uint64_t v)
{
    cb_set(ctx, CB_NEGINT, v);
}
static void on_bytes(void *ctx, cbor_data data, size_t len)
{
    struct cb_item *it = ctx;
    cb_set(ctx, CB_BYTES, 0);
    it->ptr = data;
    it->len = len;
}
static void on_text(void *ctx, cbor_data data, size_t len)
{
    struct cb_item *it = ctx;
    cb_set(ctx, CB_TEXT, 0);
    it->ptr = data;
    it->len = len;
}
static void on_array(void *ctx, size_t n)
{
    cb_set(ctx, CB_ARRAY, n);
}
static void on_map(void *ctx, size_t n)
{
    cb_set(ctx, CB_MAP, n);
}
static void on_tag(void *ctx, uint64_t v)
{
    cb_set(ctx, CB_TAG, v);
}
static void on_undefined(void *ctx)
{
    cb_set(ctx, CB_SIMPLE, 0);
}
static void on_null(void *ctx)
{
    cb_set(ctx, CB_NULL, 0);
}
static void on_float(void *ctx, float v)
{
    (void)v;
    cb_set(ctx, CB_SIMPLE, 0);
}
static void on_double(void *ctx, double v)
{
    (void)v;
    cb_set(ctx, CB_SIMPLE, 0);
}
static void on_bool(void *ctx, bool v)
{
    cb_set(ctx, CB_BOOL, v ? 1 : 0);
}
static void on_indefinite(void *ctx)
{
    cb_set(ctx, CB_BAD, 0);
}

static const struct cbor_callbacks cb_callbacks = {
    .uint8 = on_uint8,
    .uint16 = on_uint16,
    .uint32 = on_uint32,
    .uint64 = on_uint64,
    .negint8 = on_negint8,
    .negint16 = on_negint16,
    .negint32 = on_negint32,
    .negint64 = on_negint64,
    .byte_string_start = on_indefinite,
    .byte_string = on_bytes,
    .string = on_text,
    .string_start = on_indefinite,
    .indef_array_start = on_indefinite,
    .array_start = on_array,
    .indef_map_start = on_indefinite,
    .map_start = on_map,
    .tag = on_tag,
    .float2 = on_float,
    .float4 = on_float,
    .float8 = on_double,
    .undefined = on_undefined,
    .null = on_null,
    .boolean = on_bool,
    .indef_break = on_indefinite,
};

int cb_next(struct cb_reader *r, struct cb_item *it)
{
    struct cb_item tmp = {.kind = CB_BAD};
    if (r->left == 0)
        return -1;
    /* libcbor 0.8 refuses the one-byte heads of tags 6 to 20, COSE_Sign1's 18 among them. */
    if (r->p[0] >= 0xc6 && r->p[0] <= 0xd4) {
        memset(it, 0, sizeof(*it));
        it->kind = CB_TAG;
        it->val = r->p[0] - 0xc0u;
        it->head = r->p[0];
        r->p++;
        r->left--;
        return 0;
    }
    struct cbor_decoder_result res = cbor_stream_decode(r->p, r->left, &cb_callbacks, &tmp);
    if (res.status != CBOR_DECODER_FINISHED || res.read == 0 || res.read > r->left ||
        tmp.kind == CB_BAD)
        return -1;
    if ((tmp.kind == CB_BYTES || tmp.kind == CB_TEXT) &&
        (tmp.ptr < r->p || tmp.len > (size_t)(r->p + res.read - tmp.ptr)))
        return -1;
    tmp.head = r->p[0];
    r->p += res.read;
    r->left -= res.read;
    *it = tmp;
    return 0;
}

int cb_expect(struct cb_reader *r, enum cb_kind kind, struct cb_item *it)
{
    return cb_next(r, it) == 0 && it->kind == kind ? 0 : -1;
}

bool cb_is_text(const struct cb_item *it, const char *s)
{
    return it->kind == CB_TEXT && it->len == strlen(s) && memcmp(it->ptr, s, it->len) == 0;
}

/* Every item takes at least one byte, so counts larger than what is left are refused before they
 * can overflow. */
int cb_skip(struct cb_reader *r, uint64_t n)
{
    struct cb_item it;
    while (n > 0) {
        if (n > r->left || cb_next(r, &it))
            return -1;
        n--;
        if (it.kind == CB_ARRAY || it.kind == CB_TAG || it.kind == CB_MAP) {
            uint64_t more = it.kind == CB_TAG ? 1 : it.val;
            if (more > r->left || (it.kind == CB_MAP && 2 * more > r->left))
                return -1;
            n += it.kind == CB_MAP ? 2 * more : more;
        }
    }
    return 0;
}
