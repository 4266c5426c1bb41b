/* cose.h: COSE_Sign1 with ES384 (RFC 8152), the one signature scheme of Nitro: EIF signatures
 * and attestation documents. A COSE_Sign1 is [protected bstr, unprotected map, payload bstr,
 * signature bstr], untagged or with tag 18; the signature is ECDSA P-384 over SHA-384 of the
 * Sig_structure ["Signature1", protected, h'', payload], written as raw r || s (48 bytes each,
 * big-endian, zero-padded), not DER. Keys are OpenSSL EVP_PKEYs.
 */
#ifndef ALCOVE_COSE_H
#define ALCOVE_COSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/cbor_write.h"

#define ES384_SIG_SIZE 96 /* r || s, 48 bytes each */
#define ES384_ALG      35 /* COSE alg -35, encoded as the negative integer -1 - 34 */
#define COSE_SIGN1_TAG 18

/* A COSE_Sign1, its parts pointing into the bytes it was decoded from. */
struct cose_sign1 {
    const uint8_t *prot, *payload, *sig;
    size_t prot_len, payload_len, sig_len;
    bool tagged; /* it had tag 18 */
};

/* Decodes a COSE_Sign1 (untagged or tag 18, any unprotected map, nothing after it). 0 or -1. */
int cose_sign1_decode(const uint8_t *buf, size_t len, struct cose_sign1 *c);
/* Whether a protected header says alg ES384: a map with 1: -35 (other labels allowed unless
 * exact, which wants {1: -35} alone). */
bool cose_protected_is_es384(const uint8_t *buf, size_t len, bool exact);
/* Appends the protected header {1: -35}: a1 01 38 22. */
void cose_put_protected_es384(struct cbuf *b);
/* Appends the Sig_structure ["Signature1", protected, h'', payload]. */
void cose_put_sig_structure(struct cbuf *b, const uint8_t *prot, size_t prot_len,
                            const uint8_t *payload, size_t payload_len);

/* Whether key is an EC key on P-384. */
bool es384_key_ok(const EVP_PKEY *key);
/* ECDSA P-384 over SHA-384(msg), as raw r || s. 0 or -1. */
int es384_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t rs[ES384_SIG_SIZE]);
/* Whether rs (raw r || s) is a valid ECDSA signature of SHA-384(msg) by key. */
bool es384_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t rs[ES384_SIG_SIZE]);

#endif
