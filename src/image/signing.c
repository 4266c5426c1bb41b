/* signing.c: EIF signature sections (serde_cbor-identical CBOR, COSE_Sign1 ES384) and sign-eif.
 * The CBOR reader and writer and the COSE/ES384 primitives are shared (src/common/cbor_*.c,
 * cose.c); this file holds what is particular to EIF signatures. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "image/signing.h"

#include "common/cbor_read.h"
#include "common/cbor_write.h"
#include "common/cose.h"

/* Reads a Rust Vec<u8> as serde_cbor writes it: an array of unsigned integers below 256. */
static int cb_byte_array(struct cb_reader *r, uint8_t **out, size_t *out_len)
{
    struct cb_item it;
    if (cb_expect(r, CB_ARRAY, &it) || it.val > r->left)
        return -1;
    size_t n = (size_t)it.val;
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (cb_expect(r, CB_UINT, &it) || it.val > 0xff) {
            free(buf);
            return -1;
        }
        buf[i] = (uint8_t)it.val;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* One PcrSignature: {"signing_certificate": [u8], "signature": [u8]}. */
struct sig_entry {
    uint8_t *cert, *cose;
    size_t cert_len, cose_len;
};

static void sig_entry_free(struct sig_entry *e)
{
    free(e->cert);
    free(e->cose);
    memset(e, 0, sizeof(*e));
}

static int decode_entry(struct cb_reader *r, struct sig_entry *e)
{
    struct cb_item it;
    memset(e, 0, sizeof(*e));
    if (cb_expect(r, CB_MAP, &it) || it.val != 2)
        return -1;
    for (int k = 0; k < 2; k++) {
        if (cb_next(r, &it))
            goto fail;
        if (cb_is_text(&it, "signing_certificate") && e->cert == NULL) {
            if (cb_byte_array(r, &e->cert, &e->cert_len))
                goto fail;
        } else if (cb_is_text(&it, "signature") && e->cose == NULL) {
            if (cb_byte_array(r, &e->cose, &e->cose_len))
                goto fail;
        } else {
            goto fail;
        }
    }
    return 0;
fail:
    sig_entry_free(e);
    return -1;
}

/* Decodes a whole signature section (an array of PcrSignature) into its first entry. */
static int decode_section(const uint8_t *sec, size_t len, struct sig_entry *first)
{
    struct cb_reader r = {sec, len};
    struct cb_item it;
    memset(first, 0, sizeof(*first));
    if (cb_expect(&r, CB_ARRAY, &it) || it.val == 0 || it.val > r.left)
        return -1;
    for (uint64_t i = 0; i < it.val; i++) {
        struct sig_entry other;
        if (decode_entry(&r, i == 0 ? first : &other))
            goto fail;
        if (i > 0)
            sig_entry_free(&other);
    }
    if (r.left == 0)
        return 0;
fail:
    sig_entry_free(first);
    return -1;
}

int eif_signature_certificate(const uint8_t *sec, size_t sec_len, uint8_t **pem, size_t *pem_len)
{
    struct sig_entry e;
    *pem = NULL;
    *pem_len = 0;
    if (decode_section(sec, sec_len, &e))
        return -1;
    free(e.cose);
    *pem = e.cert;
    *pem_len = e.cert_len;
    return 0;
}

/* ---- CBOR writing ---- */

static void put_byte_array(struct cbuf *b, const uint8_t *data, size_t n)
{
    cbw_array(b, n);
    for (size_t i = 0; i < n; i++)
        cbw_uint(b, data[i]);
}

/* PcrInfo {"register_index": 0, "register_value": [PCR0]}, the COSE payload. */
static void put_pcr_info(struct cbuf *b, const uint8_t pcr0[PCR_SIZE])
{
    cbw_map(b, 2);
    cbw_text(b, "register_index");
    cbw_uint(b, 0);
    cbw_text(b, "register_value");
    put_byte_array(b, pcr0, PCR_SIZE);
}

/* ---- OpenSSL ---- */

static void set_why(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t why_size, const char *fmt, ...)
{
    if (why == NULL || why_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
}

static X509 *load_cert(const void *pem, size_t len)
{
    if (len > INT_MAX)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return cert;
}

static EVP_PKEY *load_key(const void *pem, size_t len)
{
    if (len > INT_MAX)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return key;
}

/* ---- building ---- */

/* Loads the certificate and the key and checks them: P-384, and a pair. 0 (both loaded), or -1
 * with a reason (nothing loaded). */
static int load_signer(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                       X509 **cert_out, EVP_PKEY **key_out, char *why, size_t why_size)
{
    X509 *cert = load_cert(cert_pem, cert_len);
    EVP_PKEY *key = NULL;
    const char *err = NULL;
    if (cert == NULL)
        err = "cannot read the signing certificate (PEM X.509 expected)";
    else if ((key = load_key(key_pem, key_len)) == NULL)
        err = "cannot read the private key (unencrypted PEM expected)";
    else if (!es384_key_ok(key))
        err = "the private key is not an EC P-384 key (EIF signatures are ECDSA P-384, COSE "
              "ES384)";
    else if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1)
        err = "the private key does not match the signing certificate";
    if (err) {
        set_why(why, why_size, "%s", err);
        EVP_PKEY_free(key);
        X509_free(cert);
        ERR_clear_error();
        return -1;
    }
    *cert_out = cert;
    *key_out = key;
    return 0;
}

int eif_signer_check(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                     char *why, size_t why_size)
{
    X509 *cert;
    EVP_PKEY *key;
    if (load_signer(cert_pem, cert_len, key_pem, key_len, &cert, &key, why, why_size))
        return -1;
    EVP_PKEY_free(key);
    X509_free(cert);
    return 0;
}

int eif_signature_build(const uint8_t pcr0[PCR_SIZE], const char *cert_pem, size_t cert_len,
                        const char *key_pem, size_t key_len, uint8_t **out, size_t *out_size,
                        char *why, size_t why_size)
{
    int ret = -1;
    struct cbuf payload = {0}, prot = {0}, tbs = {0}, cose = {0}, sec = {0};
    uint8_t rs[ES384_SIG_SIZE];
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;

    *out = NULL;
    *out_size = 0;
    if (load_signer(cert_pem, cert_len, key_pem, key_len, &cert, &key, why, why_size))
        return -1;

    put_pcr_info(&payload, pcr0);
    cose_put_protected_es384(&prot);
    cose_put_sig_structure(&tbs, prot.p, prot.len, payload.p, payload.len);
    if (payload.oom || prot.oom || tbs.oom) {
        set_why(why, why_size, "out of memory");
        goto out;
    }
    if (es384_sign(key, tbs.p, tbs.len, rs)) {
        set_why(why, why_size, "ECDSA signing failed");
        goto out;
    }
    cbw_array(&cose, 4);
    cbw_bytes(&cose, prot.p, prot.len);
    cbw_map(&cose, 0);
    cbw_bytes(&cose, payload.p, payload.len);
    cbw_bytes(&cose, rs, sizeof(rs));

    cbw_array(&sec, 1);
    cbw_map(&sec, 2);
    cbw_text(&sec, "signing_certificate");
    put_byte_array(&sec, (const uint8_t *)cert_pem, cert_len);
    cbw_text(&sec, "signature");
    put_byte_array(&sec, cose.p, cose.len);
    if (cose.oom || sec.oom) {
        set_why(why, why_size, "out of memory");
        goto out;
    }
    *out = sec.p;
    *out_size = sec.len;
    sec.p = NULL;
    ret = 0;
out:
    free(payload.p);
    free(prot.p);
    free(tbs.p);
    free(cose.p);
    free(sec.p);
    EVP_PKEY_free(key);
    X509_free(cert);
    ERR_clear_error();
    return ret;
}

/* ---- verification ---- */

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    *out = timegm(&tm);
    return 0;
}

static void asn1_time_text(const ASN1_TIME *t, char *out, size_t size)
{
    BIO *bio = BIO_new(BIO_s_mem());
    out[0] = '\0';
    if (bio && ASN1_TIME_print(bio, t) == 1) {
        int n = BIO_read(bio, out, (int)size - 1);
        out[n > 0 ? n : 0] = '\0';
    }
    BIO_free(bio);
}

/* s (UTF-8, n bytes) as Rust's {:?} writes a str, with the quotes removed afterwards, which is
 * how nitro-cli shows a name's value: \\, \t, \r, \n, \0 and \u{hex} for other controls, and
 * a '"' left as the '\\' of its escape; other bytes as they are (Rust also escapes characters
 * beyond ASCII that do not print, which names hardly hold). Cut short to fit. */
static void rust_debug_text(const unsigned char *s, int n, char *out, size_t size)
{
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        char esc[16];
        unsigned char c = s[i];
        if (c == '\\')
            snprintf(esc, sizeof(esc), "\\\\");
        else if (c == '"')
            snprintf(esc, sizeof(esc), "\\");
        else if (c == '\t')
            snprintf(esc, sizeof(esc), "\\t");
        else if (c == '\r')
            snprintf(esc, sizeof(esc), "\\r");
        else if (c == '\n')
            snprintf(esc, sizeof(esc), "\\n");
        else if (c == 0)
            snprintf(esc, sizeof(esc), "\\0");
        else if (c < 0x20 || c == 0x7f)
            snprintf(esc, sizeof(esc), "\\u{%x}", c);
        else
            esc[0] = (char)c, esc[1] = 0;
        size_t len = strlen(esc);
        if (pos + len >= size)
            break;
        memcpy(out + pos, esc, len);
        pos += len;
    }
    out[pos] = '\0';
}

/* Every attribute of the issuer's name into info->issuer, sorted by key, the last value of a
 * repeated key kept (nitro-cli collects them into a BTreeMap). */
static void fill_issuer(const X509_NAME *name, struct eif_signature_info *info)
{
    info->nissuer = 0;
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        char key[sizeof(info->issuer[0].key)];
        if (OBJ_obj2txt(key, sizeof(key), X509_NAME_ENTRY_get_object(e), 0) <= 0)
            continue;
        unsigned at = 0;
        while (at < info->nissuer && strcmp(info->issuer[at].key, key) < 0)
            at++;
        if (at == info->nissuer || strcmp(info->issuer[at].key, key) != 0) {
            if (info->nissuer == EIF_ISSUER_MAX)
                continue;
            memmove(&info->issuer[at + 1], &info->issuer[at],
                    (info->nissuer - at) * sizeof(info->issuer[0]));
            info->nissuer++;
            snprintf(info->issuer[at].key, sizeof(info->issuer[at].key), "%s", key);
        }
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (n < 0)
            snprintf(info->issuer[at].value, sizeof(info->issuer[at].value), "error");
        else
            rust_debug_text(utf8, n, info->issuer[at].value, sizeof(info->issuer[at].value));
        OPENSSL_free(utf8);
    }
}

/* What describe-eif shows about the certificate. 0 or -1 (unreadable dates). */
static int fill_cert_info(X509 *cert, struct eif_signature_info *info)
{
    static const char digits[] = "0123456789ABCDEF";
    const ASN1_BIT_STRING *sig = NULL;
    const char *alg = OBJ_nid2ln(X509_get_signature_nid(cert));

    if (X509_NAME_get_text_by_NID(X509_get_issuer_name(cert), NID_commonName, info->issuer_cn,
                                  sizeof(info->issuer_cn)) < 0)
        info->issuer_cn[0] = '\0';
    fill_issuer(X509_get_issuer_name(cert), info);
    snprintf(info->algorithm, sizeof(info->algorithm), "%s", alg ? alg : "");
    asn1_time_text(X509_get0_notBefore(cert), info->not_before, sizeof(info->not_before));
    asn1_time_text(X509_get0_notAfter(cert), info->not_after, sizeof(info->not_after));

    X509_get0_signature(&sig, NULL, cert);
    size_t pos = 0;
    if (sig) {
        const unsigned char *d = ASN1_STRING_get0_data(sig);
        int n = ASN1_STRING_length(sig);
        for (int i = 0; i < n && pos + 3 < sizeof(info->signature_hex); i++) {
            if (i)
                info->signature_hex[pos++] = ':';
            info->signature_hex[pos++] = digits[d[i] >> 4];
            info->signature_hex[pos++] = digits[d[i] & 0xf];
        }
    }
    info->signature_hex[pos] = '\0';

    if (asn1_time_to_time_t(X509_get0_notBefore(cert), &info->not_before_t) ||
        asn1_time_to_time_t(X509_get0_notAfter(cert), &info->not_after_t))
        return -1;
    return 0;
}

enum eif_sig_error eif_signature_verify(const struct eif_image *img, const uint8_t pcr0[PCR_SIZE],
                                        time_t now, struct eif_signature_info *info)
{
    enum eif_sig_error ret = EIF_SIG_MALFORMED;
    struct eif_signature_info local;
    struct sig_entry e = {0};
    struct cose_sign1 c;
    struct cbuf tbs = {0}, expect = {0};
    X509 *cert = NULL;

    if (info == NULL)
        info = &local;
    memset(info, 0, sizeof(*info));
    if (img->signature < 0 || img->signature >= img->nsections)
        goto out;
    const struct eif_section *s = &img->sections[img->signature];
    if (decode_section(s->data, (size_t)s->size, &e))
        goto out;

    ret = EIF_SIG_CERTIFICATE;
    cert = load_cert(e.cert, e.cert_len);
    if (cert == NULL || fill_cert_info(cert, info) || !es384_key_ok(X509_get0_pubkey(cert)))
        goto out;

    ret = EIF_SIG_MALFORMED;
    if (cose_sign1_decode(e.cose, e.cose_len, &c))
        goto out;
    ret = EIF_SIG_BAD;
    if (!cose_protected_is_es384(c.prot, c.prot_len, false) || c.sig_len != ES384_SIG_SIZE)
        goto out;
    cose_put_sig_structure(&tbs, c.prot, c.prot_len, c.payload, c.payload_len);
    if (tbs.oom || !es384_verify(X509_get0_pubkey(cert), tbs.p, tbs.len, c.sig))
        goto out;

    put_pcr_info(&expect, pcr0);
    info->payload_matches =
        !expect.oom && expect.len == c.payload_len && memcmp(expect.p, c.payload, expect.len) == 0;
    ret = EIF_SIG_PCR0;
    if (!info->payload_matches)
        goto out;
    ret = EIF_SIG_EXPIRED;
    if (now != 0 && (now < info->not_before_t || now > info->not_after_t))
        goto out;
    ret = EIF_SIG_OK;
out:
    free(tbs.p);
    free(expect.p);
    sig_entry_free(&e);
    X509_free(cert);
    ERR_clear_error();
    return ret;
}

const char *eif_sig_strerror(enum eif_sig_error err)
{
    switch (err) {
    case EIF_SIG_OK:
        return "signature valid";
    case EIF_SIG_MALFORMED:
        return "malformed or missing signature section";
    case EIF_SIG_CERTIFICATE:
        return "the signing certificate does not parse or is not an EC P-384 certificate";
    case EIF_SIG_BAD:
        return "the signature does not verify with the signing certificate";
    case EIF_SIG_PCR0:
        return "the signature is valid but signs another PCR0";
    case EIF_SIG_EXPIRED:
        return "the signing certificate is expired or not yet valid";
    }
    return "unknown signature error";
}

/* ---- sign-eif ---- */

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

#define H_NSECTIONS 0x1a
#define H_OFFSETS   0x1c
#define H_SIZES     0x11c

int eif_sign_image(const uint8_t *buf, size_t size, const char *cert_pem, size_t cert_len,
                   const char *key_pem, size_t key_len, uint8_t **out, size_t *out_size, char *why,
                   size_t why_size)
{
    struct eif_image img;
    struct eif_pcrs pcrs;
    uint8_t *sec = NULL, *res = NULL;
    size_t sec_len = 0;

    *out = NULL;
    *out_size = 0;
    enum eif_error perr = eif_parse(buf, size, &img);
    if (perr != EIF_OK && perr != EIF_ERR_LINUX_KERNEL) {
        set_why(why, why_size, "not a valid EIF: %s", eif_strerror(perr));
        return -EINVAL;
    }
    /* PCR0 does not depend on the old signature; do not let an unreadable one stop us. */
    struct eif_image unsigned_img = img;
    unsigned_img.signature = -1;
    if (eif_measure(&unsigned_img, &pcrs)) {
        set_why(why, why_size, "cannot measure the EIF");
        return -EINVAL;
    }
    if (eif_signature_build(pcrs.pcr0, cert_pem, cert_len, key_pem, key_len, &sec, &sec_len, why,
                            why_size))
        return -EINVAL;

    /* The old signature (if any) is replaced in place, else the new one goes at the end. */
    unsigned idx = img.signature >= 0 ? (unsigned)img.signature : img.nsections;
    uint64_t at = idx < img.nsections ? img.sections[idx].offset : size;
    size_t old_len = idx < img.nsections ? (size_t)img.sections[idx].size : 0;
    size_t old_end = idx < img.nsections ? (size_t)at + EIF_SECTION_HEADER_SIZE + old_len : size;
    if (idx >= EIF_MAX_SECTIONS) {
        set_why(why, why_size, "the EIF already has %d sections", EIF_MAX_SECTIONS);
        free(sec);
        return -EINVAL;
    }
    size_t new_size = (size_t)at + EIF_SECTION_HEADER_SIZE + sec_len + (size - old_end);
    res = malloc(new_size);
    if (res == NULL) {
        set_why(why, why_size, "out of memory");
        free(sec);
        return -ENOMEM;
    }
    memcpy(res, buf, (size_t)at);
    uint8_t *sh = res + at;
    sh[0] = 0, sh[1] = EIF_SEC_SIGNATURE, sh[2] = 0, sh[3] = 0;
    put_be64(sh + 4, sec_len);
    memcpy(sh + EIF_SECTION_HEADER_SIZE, sec, sec_len);
    memcpy(sh + EIF_SECTION_HEADER_SIZE + sec_len, buf + old_end, size - old_end);
    free(sec);

    /* The table: this section's slot, then every later section moved by the size change. */
    put_be64(res + H_OFFSETS + 8 * idx, at);
    put_be64(res + H_SIZES + 8 * idx, sec_len);
    for (unsigned i = idx + 1; i < img.nsections; i++) {
        uint64_t off = get_be64(res + H_OFFSETS + 8 * i);
        put_be64(res + H_OFFSETS + 8 * i, off - old_len + sec_len);
    }
    if (idx == img.nsections) {
        res[H_NSECTIONS] = 0;
        res[H_NSECTIONS + 1] = (uint8_t)(img.nsections + 1);
    }
    eif_update_crc(res, new_size);
    *out = res;
    *out_size = new_size;
    return 0;
}
