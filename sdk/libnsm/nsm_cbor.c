/* nsm_cbor.c: the CBOR encoder and strict decoder used by libnsm (see nsm_cbor.h). The decoder
 * reads every head with explicit bounds against the end of the input, rejects lengths and counts
 * that cannot fit in what is left before looking at the contents, and recurses at most
 * CBOR_MAX_DEPTH levels, so hostile input costs time linear in its size times the depth. */
#include "nsm_cbor.h"

#include <string.h>

/* ---- encoder ---- */

void cbor_enc_init(struct cbor_enc *e, uint8_t *buf, size_t cap)
{
    e->buf = buf;
    e->cap = buf ? cap : 0;
    e->len = 0;
}

bool cbor_enc_ok(const struct cbor_enc *e)
{
    return e->len <= e->cap;
}

static void put_bytes(struct cbor_enc *e, const void *src, size_t n)
{
    if (e->len < e->cap && n > 0) {
        size_t room = e->cap - e->len;
        memcpy(e->buf + e->len, src, n < room ? n : room);
    }
    e->len = n > SIZE_MAX - e->len ? SIZE_MAX : e->len + n;
}

/* The head of an item in its shortest form: major type and argument. */
static void put_head(struct cbor_enc *e, unsigned major, uint64_t v)
{
    uint8_t h[9];
    size_t n;
    uint8_t mt = (uint8_t)(major << 5);
    if (v < 24) {
        h[0] = mt | (uint8_t)v;
        n = 1;
    } else if (v <= 0xff) {
        h[0] = mt | 24;
        n = 2;
    } else if (v <= 0xffff) {
        h[0] = mt | 25;
        n = 3;
    } else if (v <= 0xffffffffu) {
        h[0] = mt | 26;
        n = 5;
    } else {
        h[0] = mt | 27;
        n = 9;
    }
    for (size_t i = 1; i < n; i++)
        h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    put_bytes(e, h, n);
}

void cbor_put_uint(struct cbor_enc *e, uint64_t v)
{
    put_head(e, CBOR_UINT, v);
}

void cbor_put_bstr(struct cbor_enc *e, const void *data, size_t len)
{
    put_head(e, CBOR_BSTR, len);
    put_bytes(e, data, len);
}

void cbor_put_tstr(struct cbor_enc *e, const char *s, size_t len)
{
    put_head(e, CBOR_TSTR, len);
    put_bytes(e, s, len);
}

void cbor_put_text(struct cbor_enc *e, const char *s)
{
    cbor_put_tstr(e, s, strlen(s));
}

void cbor_put_array(struct cbor_enc *e, uint64_t count)
{
    put_head(e, CBOR_ARRAY, count);
}

void cbor_put_map(struct cbor_enc *e, uint64_t pairs)
{
    put_head(e, CBOR_MAP, pairs);
}

void cbor_put_bool(struct cbor_enc *e, bool v)
{
    put_head(e, CBOR_SIMPLE, v ? CBOR_TRUE : CBOR_FALSE);
}

void cbor_put_null(struct cbor_enc *e)
{
    put_head(e, CBOR_SIMPLE, CBOR_NULL);
}

/* ---- decoder ---- */

/* Reads one head at *pp: major type, additional information and argument. */
static enum cbor_status read_head(const uint8_t **pp, const uint8_t *end, unsigned *major,
                                  unsigned *ai, uint64_t *arg)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return CBOR_E_TRUNCATED;
    uint8_t ib = *p++;
    *major = ib >> 5;
    *ai = ib & 31u;
    if (*ai < 24) {
        *arg = *ai;
    } else if (*ai <= 27) {
        size_t n = (size_t)1 << (*ai - 24);
        if ((size_t)(end - p) < n)
            return CBOR_E_TRUNCATED;
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v << 8 | p[i];
        p += n;
        *arg = v;
    } else if (*ai <= 30) {
        return CBOR_E_RESERVED;
    } else {
        return CBOR_E_INDEFINITE;
    }
    *pp = p;
    return CBOR_OK;
}

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t more;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            more = 1, cp = c & 0x1fu, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, cp = c & 0x0fu, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (n - i - 1 < more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += more + 1;
    }
    return true;
}

/* Decodes the item at *pp, enclosed by `depth` arrays or maps, checking everything inside it. */
static enum cbor_status parse_item(const uint8_t **pp, const uint8_t *end, unsigned depth,
                                   struct cbor_item *out)
{
    const uint8_t *p = *pp;
    unsigned major, ai;
    uint64_t arg;
    enum cbor_status st = read_head(&p, end, &major, &ai, &arg);
    if (st != CBOR_OK)
        return st;
    size_t left = (size_t)(end - p);
    memset(out, 0, sizeof(*out));
    out->type = (enum cbor_type)major;
    switch (major) {
    case CBOR_UINT:
    case CBOR_NEGINT:
        out->val = arg;
        break;
    case CBOR_BSTR:
    case CBOR_TSTR:
        if (arg > left)
            return CBOR_E_LENGTH;
        out->data = p;
        out->len = (size_t)arg;
        if (major == CBOR_TSTR && !utf8_valid(p, out->len))
            return CBOR_E_UTF8;
        p += out->len;
        break;
    case CBOR_ARRAY:
    case CBOR_MAP: {
        if (depth + 1 > CBOR_MAX_DEPTH)
            return CBOR_E_DEPTH;
        /* every element takes at least one byte */
        if (arg > left || (major == CBOR_MAP && arg > left / 2))
            return CBOR_E_LENGTH;
        out->count = arg;
        out->data = p;
        uint64_t items = major == CBOR_MAP ? 2 * arg : arg;
        for (uint64_t i = 0; i < items; i++) {
            struct cbor_item child;
            st = parse_item(&p, end, depth + 1, &child);
            if (st != CBOR_OK)
                return st;
        }
        break;
    }
    case CBOR_TAG:
        return CBOR_E_UNSUPPORTED;
    default: /* CBOR_SIMPLE: only false, true and null, in their one-byte form */
        if (ai != CBOR_FALSE && ai != CBOR_TRUE && ai != CBOR_NULL)
            return CBOR_E_UNSUPPORTED;
        out->val = ai;
        break;
    }
    out->end = p;
    *pp = p;
    return CBOR_OK;
}

enum cbor_status cbor_decode(const uint8_t *buf, size_t len, struct cbor_item *out)
{
    if (!buf)
        return CBOR_E_TRUNCATED;
    const uint8_t *p = buf, *end = buf + len;
    enum cbor_status st = parse_item(&p, end, 0, out);
    if (st != CBOR_OK)
        return st;
    return p == end ? CBOR_OK : CBOR_E_TRAILING;
}

enum cbor_status cbor_iter_init(const struct cbor_item *container, struct cbor_iter *it)
{
    if (container->type != CBOR_ARRAY && container->type != CBOR_MAP)
        return CBOR_E_TYPE;
    it->p = container->data;
    it->end = container->end;
    it->left = container->type == CBOR_MAP ? 2 * container->count : container->count;
    return CBOR_OK;
}

enum cbor_status cbor_iter_next(struct cbor_iter *it, struct cbor_item *out)
{
    if (it->left == 0)
        return CBOR_E_NOTFOUND;
    /* the container was checked as a whole, so this cannot fail; check anyway */
    enum cbor_status st = parse_item(&it->p, it->end, 0, out);
    if (st != CBOR_OK)
        return st;
    it->left--;
    return CBOR_OK;
}

enum cbor_status cbor_array_get(const struct cbor_item *array, uint64_t i, struct cbor_item *out)
{
    struct cbor_iter it;
    if (array->type != CBOR_ARRAY)
        return CBOR_E_TYPE;
    if (i >= array->count)
        return CBOR_E_NOTFOUND;
    enum cbor_status st = cbor_iter_init(array, &it);
    for (uint64_t k = 0; st == CBOR_OK && k <= i; k++)
        st = cbor_iter_next(&it, out);
    return st;
}

enum cbor_status cbor_map_find(const struct cbor_item *map, const char *key, struct cbor_item *out)
{
    struct cbor_iter it;
    struct cbor_item k, v;
    bool found = false;
    if (map->type != CBOR_MAP)
        return CBOR_E_TYPE;
    enum cbor_status st = cbor_iter_init(map, &it);
    while (st == CBOR_OK) {
        st = cbor_iter_next(&it, &k);
        if (st != CBOR_OK)
            break;
        st = cbor_iter_next(&it, &v);
        if (st != CBOR_OK)
            return st;
        if (cbor_text_eq(&k, key)) {
            if (found)
                return CBOR_E_DUPKEY;
            found = true;
            *out = v;
        }
    }
    if (st != CBOR_E_NOTFOUND)
        return st;
    return found ? CBOR_OK : CBOR_E_NOTFOUND;
}

enum cbor_status cbor_get_uint(const struct cbor_item *it, uint64_t max, uint64_t *v)
{
    if (it->type != CBOR_UINT)
        return CBOR_E_TYPE;
    if (it->val > max)
        return CBOR_E_RANGE;
    *v = it->val;
    return CBOR_OK;
}

enum cbor_status cbor_get_bool(const struct cbor_item *it, bool *v)
{
    if (it->type != CBOR_SIMPLE || (it->val != CBOR_FALSE && it->val != CBOR_TRUE))
        return CBOR_E_TYPE;
    *v = it->val == CBOR_TRUE;
    return CBOR_OK;
}

bool cbor_is_null(const struct cbor_item *it)
{
    return it->type == CBOR_SIMPLE && it->val == CBOR_NULL;
}

bool cbor_text_eq(const struct cbor_item *it, const char *s)
{
    size_t n = strlen(s);
    return it->type == CBOR_TSTR && it->len == n && memcmp(it->data, s, n) == 0;
}

const char *cbor_status_str(enum cbor_status st)
{
    switch (st) {
    case CBOR_OK:
        return "ok";
    case CBOR_E_TRUNCATED:
        return "truncated input";
    case CBOR_E_LENGTH:
        return "length beyond the input";
    case CBOR_E_INDEFINITE:
        return "indefinite length";
    case CBOR_E_RESERVED:
        return "reserved additional information";
    case CBOR_E_UNSUPPORTED:
        return "unsupported item";
    case CBOR_E_UTF8:
        return "invalid UTF-8";
    case CBOR_E_DEPTH:
        return "nested too deep";
    case CBOR_E_TRAILING:
        return "trailing bytes";
    case CBOR_E_TYPE:
        return "wrong type";
    case CBOR_E_NOTFOUND:
        return "not found";
    case CBOR_E_DUPKEY:
        return "duplicate key";
    case CBOR_E_RANGE:
        return "integer out of range";
    }
    return "unknown";
}
