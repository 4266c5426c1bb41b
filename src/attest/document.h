/* document.h: Nitro attestation documents (specs/nsm-runtime.md section 2), the signing side.
 * A document is an untagged COSE_Sign1 [h'a1013822' ({1: -35}), {}, payload, r || s] whose
 * payload is a CBOR map of exactly 9 keys in this order: module_id, digest ("SHA384"),
 * timestamp (milliseconds, always 0x1b + 8 bytes), pcrs (index -> 48-byte value), certificate
 * (the signer's DER leaf), cabundle (DER certificates, root first), public_key, user_data,
 * nonce (each a byte string, or null when absent). It is signed with the leaf's P-384 key.
 */
#ifndef ALCOVE_ATTEST_DOCUMENT_H
#define ALCOVE_ATTEST_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#define ATTEST_MAX_PCRS     32
#define ATTEST_PCR_SIZE     48
#define ATTEST_FIELD_MAX    1024 /* user_data, nonce, public_key: at most this many bytes each */
#define ATTEST_CABUNDLE_MAX 8    /* certificates in a cabundle */

/* What signs documents: a short-lived leaf key and certificate issued by the host's CA (ca.h),
 * and the CA chain above the leaf, root first. The CA's own private key is never here. */
struct attest_signer {
    EVP_PKEY *key; /* the leaf's private key (P-384) */
    uint8_t *cert_der;
    size_t cert_len;
    uint8_t *cabundle[ATTEST_CABUNDLE_MAX]; /* DER, [0] is the root */
    size_t cabundle_len[ATTEST_CABUNDLE_MAX];
    size_t cabundle_n;
    time_t not_before, not_after; /* the leaf's validity */
};

/* Frees what the signer holds and zeroes it. */
void attest_signer_free(struct attest_signer *s);

/* An optional byte string: ptr NULL means absent (written as null). */
struct attest_bytes {
    const uint8_t *ptr;
    size_t len;
};

struct attest_doc_fields {
    const char *module_id;
    uint64_t timestamp_ms;
    const uint8_t (*pcrs)[ATTEST_PCR_SIZE]; /* ATTEST_MAX_PCRS values */
    uint32_t pcr_mask;                      /* bit i: PCR i goes in the document (it is locked) */
    struct attest_bytes public_key, user_data, nonce;
};

/* Builds and signs a document. *out is malloc'd. 0, or -1 (bad fields: empty module_id, a field
 * over ATTEST_FIELD_MAX, no PCR, no signer; or an allocation or signing failure). */
int attest_document_build(const struct attest_signer *signer, const struct attest_doc_fields *f,
                          uint8_t **out, size_t *out_len);

#endif
