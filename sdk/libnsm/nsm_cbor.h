/* nsm_cbor.h: the small CBOR (RFC 8949) codec behind libnsm. The encoder writes definite-length
 * items into a caller buffer and keeps counting past its end, so one pass tells the size a
 * message needs. The decoder checks a whole item once (well-formed, inside the buffer, no
 * indefinite lengths, no tags, no floats, text strings valid UTF-8, nesting at most
 * CBOR_MAX_DEPTH, nothing after it) and then hands out views into the caller's bytes: no
 * allocation, no copies. Map lookups go by text key, whatever the key order, and refuse a key
 * that appears twice. It decodes bytes from a device, which are untrusted. */
#ifndef ALCOVE_LIBNSM_CBOR_H
#define ALCOVE_LIBNSM_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest nesting of arrays and maps accepted (the top item is depth 1). */
#define CBOR_MAX_DEPTH 16

/* Major types. */
enum cbor_type {
    CBOR_UINT = 0,
    CBOR_NEGINT = 1,
    CBOR_BSTR = 2,
    CBOR_TSTR = 3,
    CBOR_ARRAY = 4,
    CBOR_MAP = 5,
    CBOR_TAG = 6,
    CBOR_SIMPLE = 7,
};

/* Simple values (major type 7) that the codec knows. */
#define CBOR_FALSE 20
#define CBOR_TRUE  21
#define CBOR_NULL  22

/* Decoder results. */
enum cbor_status {
    CBOR_OK = 0,
    CBOR_E_TRUNCATED,   /* the input ends inside an item */
    CBOR_E_LENGTH,      /* a length or count larger than what is left of the input */
    CBOR_E_INDEFINITE,  /* indefinite-length item or break byte */
    CBOR_E_RESERVED,    /* additional information 28..30 */
    CBOR_E_UNSUPPORTED, /* tags, floats, simple values other than false/true/null */
    CBOR_E_UTF8,        /* text string that is not valid UTF-8 */
    CBOR_E_DEPTH,       /* nesting deeper than CBOR_MAX_DEPTH */
    CBOR_E_TRAILING,    /* bytes left after the top item */
    CBOR_E_TYPE,        /* the item is not of the type asked for */
    CBOR_E_NOTFOUND,    /* no such map key or array index */
    CBOR_E_DUPKEY,      /* the looked-up key appears more than once */
    CBOR_E_RANGE,       /* an unsigned integer above the limit asked for */
};

/* ---- encoder ---- */

struct cbor_enc {
    uint8_t *buf;
    size_t cap; /* bytes available in buf */
    size_t len; /* bytes the message needs; only the first min(len, cap) were written */
};

void cbor_enc_init(struct cbor_enc *e, uint8_t *buf, size_t cap);
/* True when everything encoded so far fitted in the buffer. */
bool cbor_enc_ok(const struct cbor_enc *e);
void cbor_put_uint(struct cbor_enc *e, uint64_t v);
void cbor_put_bstr(struct cbor_enc *e, const void *data, size_t len);
void cbor_put_tstr(struct cbor_enc *e, const char *s, size_t len);
/* A NUL-terminated text string. */
void cbor_put_text(struct cbor_enc *e, const char *s);
void cbor_put_array(struct cbor_enc *e, uint64_t count);
void cbor_put_map(struct cbor_enc *e, uint64_t pairs);
void cbor_put_bool(struct cbor_enc *e, bool v);
void cbor_put_null(struct cbor_enc *e);

/* ---- decoder ---- */

/* A view of one decoded item. For strings, data/len are the bytes; for arrays and maps, count is
 * the number of elements (pairs for maps) and data..end their encoded contents. */
struct cbor_item {
    enum cbor_type type;
    uint64_t val;        /* uint: the value; negint: -1 - val; simple: the simple value */
    uint64_t count;      /* array elements or map pairs */
    const uint8_t *data; /* string bytes, or the first element of an array or map */
    size_t len;          /* string length in bytes */
    const uint8_t *end;  /* one past the whole item */
};

/* Checks that buf[0..len) is exactly one well-formed item within the limits above, and
 * describes it. Every other decoder function expects items that came out of this one. */
enum cbor_status cbor_decode(const uint8_t *buf, size_t len, struct cbor_item *out);

/* Walks the elements of an array (one item per step) or a map (key, then value). */
struct cbor_iter {
    const uint8_t *p, *end;
    uint64_t left; /* items still to come */
};
enum cbor_status cbor_iter_init(const struct cbor_item *container, struct cbor_iter *it);
/* CBOR_OK with the next item, or CBOR_E_NOTFOUND at the end. */
enum cbor_status cbor_iter_next(struct cbor_iter *it, struct cbor_item *out);

/* Element i of an array. */
enum cbor_status cbor_array_get(const struct cbor_item *array, uint64_t i, struct cbor_item *out);
/* The value under the text key `key` (NUL-terminated) of a map, in any position. Keys of other
 * types are skipped. CBOR_E_DUPKEY if the key appears twice. */
enum cbor_status cbor_map_find(const struct cbor_item *map, const char *key, struct cbor_item *out);

/* Typed readers: CBOR_E_TYPE when the item is not of that type, CBOR_E_RANGE for a uint over max.
 */
enum cbor_status cbor_get_uint(const struct cbor_item *it, uint64_t max, uint64_t *v);
enum cbor_status cbor_get_bool(const struct cbor_item *it, bool *v);
bool cbor_is_null(const struct cbor_item *it);
/* True when the item is a text string equal to the NUL-terminated s. */
bool cbor_text_eq(const struct cbor_item *it, const char *s);

const char *cbor_status_str(enum cbor_status st);

#endif
