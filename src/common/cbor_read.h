/* cbor_read.h: a small pull reader for CBOR, one item head at a time, on top of libcbor's
 * streaming decoder. It is meant for untrusted bytes: nothing is allocated, nesting is walked
 * without recursion, strings point into the input, and indefinite-length items, unassigned simple
 * values and truncated items are errors. Used by the EIF signature reader (src/image/signing.c),
 * the NSM request decoder and the attestation verifier (src/attest/).
 */
#ifndef ALCOVE_CBOR_READ_H
#define ALCOVE_CBOR_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cb_kind {
    CB_UINT,
    CB_NEGINT,
    CB_BYTES,
    CB_TEXT,
    CB_ARRAY,
    CB_MAP,
    CB_TAG,
    CB_NULL,
    CB_BOOL,   /* val is 0 (false) or 1 (true) */
    CB_SIMPLE, /* undefined, floats */
    CB_BAD,
};

struct cb_item {
    enum cb_kind kind;
    uint64_t val;       /* integer value (a negative integer is -1 - val), count, tag or bool */
    const uint8_t *ptr; /* a string's bytes, inside the input */
    size_t len;
    uint8_t head; /* the item's first byte (its major type and additional information) */
};

struct cb_reader {
    const uint8_t *p;
    size_t left;
};

/* Reads the next item's head (and a string's bytes). 0, or -1 (malformed, truncated, refused). */
int cb_next(struct cb_reader *r, struct cb_item *it);
/* cb_next, and the item must be of that kind. 0 or -1. */
int cb_expect(struct cb_reader *r, enum cb_kind kind, struct cb_item *it);
/* Whether the item is the text string s. */
bool cb_is_text(const struct cb_item *it, const char *s);
/* Skips n whole items (each with everything it holds). 0 or -1. */
int cb_skip(struct cb_reader *r, uint64_t n);

#endif
