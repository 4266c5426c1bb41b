/* cbor_write.h: a growable buffer that CBOR items are appended to with minimal-length heads, as
 * serde_cbor writes them (so the bytes match what Nitro's Rust code produces). An allocation
 * failure is sticky: every later call does nothing and `oom` stays set, so a caller checks once
 * at the end. Used by EIF signatures, NSM responses and attestation documents.
 */
#ifndef ALCOVE_CBOR_WRITE_H
#define ALCOVE_CBOR_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cbuf {
    uint8_t *p; /* malloc'd; the caller frees it */
    size_t len, cap;
    bool oom;
};

/* Makes room for n more bytes. false after an allocation failure. */
bool cbuf_reserve(struct cbuf *b, size_t n);
/* Appends raw bytes. */
void cbuf_put(struct cbuf *b, const void *data, size_t n);

void cbw_array(struct cbuf *b, size_t n);
void cbw_map(struct cbuf *b, size_t n);
void cbw_uint(struct cbuf *b, uint64_t v);
/* An unsigned integer always in 9 bytes (0x1b and 8 bytes), as Nitro writes the timestamp. */
void cbw_uint64_wide(struct cbuf *b, uint64_t v);
/* The negative integer -1 - v. */
void cbw_negint(struct cbuf *b, uint64_t v);
void cbw_text(struct cbuf *b, const char *s);
void cbw_text_n(struct cbuf *b, const char *s, size_t n);
void cbw_bytes(struct cbuf *b, const void *data, size_t n);
void cbw_bool(struct cbuf *b, bool v);
void cbw_null(struct cbuf *b);

#endif
