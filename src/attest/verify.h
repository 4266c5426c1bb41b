/* verify.h: verifying an attestation document (specs/nsm-runtime.md section 2.4) against a pinned
 * CA certificate and a policy. Steps, in order: the COSE_Sign1 envelope (untagged or tag 18,
 * protected header exactly {1: -35}, a 96-byte signature); the payload (the 9 known keys in any
 * order, no others, no duplicates; types and sizes below); the chain [certificate, cabundle[N-1],
 * ..., cabundle[0]] in exactly that order, with cabundle[0] byte-equal to the pinned CA, which is
 * the only trust anchor (PKIX with X509_STRICT at the policy's time, no CRLs, no partial chains;
 * of strict mode's checks, only missing key identifiers are let through, as genuine AWS chains
 * lack them; CAs with critical basicConstraints and keyCertSign; every certificate P-384 and
 * signed with ecdsa-with-SHA384; the leaf not a CA, with digitalSignature, and the timestamp
 * inside its validity); the ES384 signature with the leaf's key; then the policy: PCR values,
 * nonce, age, debug mode.
 *
 * Sizes: module_id 1..1024 bytes of text without NUL; pcrs 1..32 entries, keys 0..31, values of
 * 32, 48 or 64 bytes; certificate and each cabundle entry 1..1024 bytes of DER, cabundle 1..8
 * entries; public_key 1..1024; user_data and nonce 0..1024. (AWS tells verifiers to take 512 as
 * the limit of user_data and nonce; alcove's NSM, like Nitro's, accepts 1024 from the enclave,
 * so this verifier accepts what its generator can produce.) null means absent.
 */
#ifndef ALCOVE_ATTEST_VERIFY_H
#define ALCOVE_ATTEST_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "attest/document.h"

#define ATTEST_PCR_MAX_SIZE  64
#define ATTEST_MODULE_ID_MAX 1024
#define ATTEST_CERT_MAX      1024
#define ATTEST_CLOCK_SKEW_S  60 /* a timestamp this far in the future is still accepted */
#define ATTEST_ERR_SIZE      512

struct attest_policy {
    const uint8_t *ca_der; /* the pinned CA certificate (DER) */
    size_t ca_der_len;
    uint32_t pcr_mask; /* bit i: PCR i must equal pcr[i] (pcr_len[i] bytes) */
    uint8_t pcr[ATTEST_MAX_PCRS][ATTEST_PCR_MAX_SIZE];
    size_t pcr_len[ATTEST_MAX_PCRS];
    bool check_nonce; /* the document's nonce must equal nonce (nonce_len bytes) */
    const uint8_t *nonce;
    size_t nonce_len;
    uint64_t max_age_s; /* 0: any age */
    time_t now;         /* the time of the checks; 0: the current time */
    bool accept_debug;  /* accept documents of debug-mode enclaves (PCR0 all zeros) */
};

enum attest_status {
    ATTEST_OK = 0,
    ATTEST_MALFORMED, /* not a well-formed document */
    ATTEST_CHAIN,     /* the certificate chain does not lead to the pinned CA */
    ATTEST_SIGNATURE, /* the COSE signature does not verify */
    ATTEST_POLICY,    /* authentic, but not what the policy wants */
    ATTEST_INTERNAL,  /* out of memory, OpenSSL failure */
};

struct attest_opt {
    bool present;
    size_t len;
    uint8_t data[ATTEST_FIELD_MAX];
};

/* What the document says (filled as far as verification got). */
struct attest_result {
    char module_id[ATTEST_MODULE_ID_MAX + 1];
    char digest[16];
    uint64_t timestamp_ms;
    uint32_t pcr_mask; /* the PCRs the document has */
    uint8_t pcr[ATTEST_MAX_PCRS][ATTEST_PCR_MAX_SIZE];
    size_t pcr_len[ATTEST_MAX_PCRS];
    struct attest_opt public_key, user_data, nonce;
    char cert_subject[256];   /* the leaf's subject, one line, RFC 2253 */
    char cert_not_before[32]; /* ISO 8601 UTC: 2026-01-02T03:04:05Z */
    char cert_not_after[32];
    size_t cabundle_n;
    bool debug; /* PCR0 is all zeros: a debug-mode enclave */
};

/* Verifies doc. ATTEST_OK, or a failure with a one-line reason in err. */
enum attest_status attest_verify(const uint8_t *doc, size_t len, const struct attest_policy *pol,
                                 struct attest_result *res, char *err, size_t err_size);

const char *attest_status_str(enum attest_status st);

/* Parses the time of the checks (alcove verify-attestation --at): Unix seconds, or an RFC 3339
 * date-time such as 2024-09-07T14:38:00Z or 2024-09-07T16:38:00.5+02:00 (fractions of a second
 * dropped). Times at or before the epoch are refused, as 0 means "now" in attest_policy. 0, or
 * -1 if s is neither. */
int attest_parse_time(const char *s, time_t *out);

#endif
