/* signing.h: EIF signatures (specs/eif.md section 3): the signature section is a CBOR array whose
 * first element maps "signing_certificate" (the PEM bytes, as an array of uints) and "signature"
 * (an untagged COSE_Sign1, ES384, over the CBOR PcrInfo {register_index: 0, register_value:
 * PCR0}), encoded exactly as serde_cbor does. Keys are ECDSA P-384 (OpenSSL). */
#ifndef ALCOVE_SIGNING_H
#define ALCOVE_SIGNING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "image/eif.h"
#include "image/measure.h"

/* Builds the signature section for an image whose PCR0 is pcr0, signed with the PEM private key
 * and certificate given. Allocates *out. 0, or -1 with a reason in why. */
int eif_signature_build(const uint8_t pcr0[PCR_SIZE], const char *cert_pem, size_t cert_len,
                        const char *key_pem, size_t key_len, uint8_t **out, size_t *out_size,
                        char *why, size_t why_size);

/* Checks a certificate and private key can sign (P-384, a matching pair), as
 * eif_signature_build would. 0, or -1 with a reason in why. */
int eif_signer_check(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                     char *why, size_t why_size);

#define EIF_ISSUER_MAX 16

/* One attribute of the issuer's name, as nitro-cli's describe-eif shows it: the attribute's
 * long name ("commonName", "organizationalUnitName"; dotted digits when OpenSSL knows none) and
 * its value in UTF-8, written as Rust's Debug writes a string with its quotes dropped. */
struct eif_name_entry {
    char key[80];
    char value[512];
};

/* What a signature section says about itself. */
struct eif_signature_info {
    char issuer_cn[256]; /* commonName of the issuer ("" if none) */
    /* every attribute of the issuer's name, sorted by key; for a key given twice the last
     * value, as nitro-cli's map keeps it (at most EIF_ISSUER_MAX keys) */
    struct eif_name_entry issuer[EIF_ISSUER_MAX];
    unsigned nissuer;
    char algorithm[64];  /* "ecdsa-with-SHA384" */
    char not_before[64]; /* as OpenSSL's ASN1_TIME_print: "Jan  1 00:00:00 2024 GMT" */
    char not_after[64];
    char signature_hex[1024]; /* the certificate's signature, uppercase hex pairs joined by ':' */
    time_t not_before_t, not_after_t;
    bool payload_matches; /* the signed payload is exactly PcrInfo{0, PCR0 of the image} */
};

enum eif_sig_error {
    EIF_SIG_OK = 0,
    EIF_SIG_MALFORMED,   /* the section is not the CBOR described above */
    EIF_SIG_CERTIFICATE, /* the certificate does not parse or is not an EC P-384 key */
    EIF_SIG_BAD,         /* the COSE signature does not verify with the certificate's key */
    EIF_SIG_PCR0,        /* the signature is valid but over another PCR0 */
    EIF_SIG_EXPIRED,     /* now is outside the certificate's validity */
};

/* Verifies the image's signature section against the image's PCR0 (and the certificate's dates
 * at time now, unless now is 0). Fills *info as far as it got. */
enum eif_sig_error eif_signature_verify(const struct eif_image *img, const uint8_t pcr0[PCR_SIZE],
                                        time_t now, struct eif_signature_info *info);
const char *eif_sig_strerror(enum eif_sig_error err);

/* The signing certificate (PEM bytes, copied into a malloc'd *pem) of the first entry of a
 * signature section. 0, or -1 when the section is not the CBOR described above. */
int eif_signature_certificate(const uint8_t *sec, size_t sec_len, uint8_t **pem, size_t *pem_len);

/* sign-eif: returns a new EIF (malloc'd) that is buf with its signature section appended, or
 * replaced if it had one, with the header table (offsets and sizes) and the CRC right. */
int eif_sign_image(const uint8_t *buf, size_t size, const char *cert_pem, size_t cert_len,
                   const char *key_pem, size_t key_len, uint8_t **out, size_t *out_size, char *why,
                   size_t why_size);

#endif
