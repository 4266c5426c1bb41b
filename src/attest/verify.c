/* verify.c: attestation document verification (see verify.h). The document is decoded with the
 * shared pull reader (no allocation, strings point into the document), the chain is checked by
 * OpenSSL's X509_verify_cert with the pinned CA as the only trust anchor, and every failure is
 * reported as one precise line. */
#include "attest/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/cbor_read.h"
#include "common/cbor_write.h"
#include "common/cose.h"

const char *attest_status_str(enum attest_status st)
{
    switch (st) {
    case ATTEST_OK:
        return "valid";
    case ATTEST_MALFORMED:
        return "malformed document";
    case ATTEST_CHAIN:
        return "certificate chain";
    case ATTEST_SIGNATURE:
        return "signature";
    case ATTEST_POLICY:
        return "policy";
    case ATTEST_INTERNAL:
        return "internal error";
    }
    return "unknown";
}

static enum attest_status fail(char *err, size_t size, enum attest_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum attest_status fail(char *err, size_t size, enum attest_status st, const char *fmt, ...)
{
    if (err && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
    }
    return st;
}

static void to_hex(const uint8_t *p, size_t n, char *out, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    size_t i = 0;
    for (; i < n && 2 * i + 2 < size; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0xf];
    }
    out[2 * i] = '\0';
}

/* ---- the payload ---- */

struct parts {
    const uint8_t *cert;
    size_t cert_len;
    const uint8_t *cab[ATTEST_CABUNDLE_MAX];
    size_t cab_len[ATTEST_CABUNDLE_MAX];
};

enum {
    K_MODULE_ID = 1 << 0,
    K_DIGEST = 1 << 1,
    K_TIMESTAMP = 1 << 2,
    K_PCRS = 1 << 3,
    K_CERTIFICATE = 1 << 4,
    K_CABUNDLE = 1 << 5,
    K_PUBLIC_KEY = 1 << 6,
    K_USER_DATA = 1 << 7,
    K_NONCE = 1 << 8,
    K_MANDATORY = K_MODULE_ID | K_DIGEST | K_TIMESTAMP | K_PCRS | K_CERTIFICATE | K_CABUNDLE,
};

static const struct {
    const char *name;
    unsigned bit;
} g_keys[] = {
    {"module_id", K_MODULE_ID},
    {"digest", K_DIGEST},
    {"timestamp", K_TIMESTAMP},
    {"pcrs", K_PCRS},
    {"certificate", K_CERTIFICATE},
    {"cabundle", K_CABUNDLE},
    {"public_key", K_PUBLIC_KEY},
    {"user_data", K_USER_DATA},
    {"nonce", K_NONCE},
};

#define BAD(...) fail(err, err_size, ATTEST_MALFORMED, __VA_ARGS__)

static enum attest_status read_optional(struct cb_reader *r, const char *name, size_t min,
                                        struct attest_opt *out, char *err, size_t err_size)
{
    struct cb_item it;
    if (cb_next(r, &it))
        return BAD("payload: %s is not valid CBOR", name);
    if (it.kind == CB_NULL)
        return ATTEST_OK;
    if (it.kind != CB_BYTES)
        return BAD("payload: %s is not a byte string or null", name);
    if (it.len < min || it.len > ATTEST_FIELD_MAX)
        return BAD("payload: %s has %zu bytes (%zu..%d allowed)", name, it.len, min,
                   ATTEST_FIELD_MAX);
    out->present = true;
    out->len = it.len;
    memcpy(out->data, it.ptr, it.len);
    return ATTEST_OK;
}

static enum attest_status read_pcrs(struct cb_reader *r, struct attest_result *res, char *err,
                                    size_t err_size)
{
    struct cb_item it;
    if (cb_expect(r, CB_MAP, &it))
        return BAD("payload: pcrs is not a map");
    if (it.val < 1 || it.val > ATTEST_MAX_PCRS)
        return BAD("payload: pcrs has %llu entries (1..%d allowed)", (unsigned long long)it.val,
                   ATTEST_MAX_PCRS);
    for (uint64_t i = 0, n = it.val; i < n; i++) {
        if (cb_expect(r, CB_UINT, &it) || it.val >= ATTEST_MAX_PCRS)
            return BAD("payload: pcrs has a key that is not a PCR index (0..31)");
        unsigned idx = (unsigned)it.val;
        if (res->pcr_mask & (1u << idx))
            return BAD("payload: pcrs has PCR%u twice", idx);
        if (cb_expect(r, CB_BYTES, &it) || (it.len != 32 && it.len != 48 && it.len != 64))
            return BAD("payload: PCR%u is not a byte string of 32, 48 or 64 bytes", idx);
        res->pcr_mask |= 1u << idx;
        res->pcr_len[idx] = it.len;
        memcpy(res->pcr[idx], it.ptr, it.len);
    }
    return ATTEST_OK;
}

static enum attest_status read_cabundle(struct cb_reader *r, struct attest_result *res,
                                        struct parts *parts, char *err, size_t err_size)
{
    struct cb_item it;
    if (cb_expect(r, CB_ARRAY, &it))
        return BAD("payload: cabundle is not an array");
    if (it.val < 1 || it.val > ATTEST_CABUNDLE_MAX)
        return BAD("payload: cabundle has %llu certificates (1..%d allowed)",
                   (unsigned long long)it.val, ATTEST_CABUNDLE_MAX);
    res->cabundle_n = (size_t)it.val;
    for (size_t i = 0; i < res->cabundle_n; i++) {
        if (cb_expect(r, CB_BYTES, &it) || it.len < 1 || it.len > ATTEST_CERT_MAX)
            return BAD("payload: cabundle[%zu] is not a byte string of 1..%d bytes", i,
                       ATTEST_CERT_MAX);
        parts->cab[i] = it.ptr;
        parts->cab_len[i] = it.len;
    }
    return ATTEST_OK;
}

static enum attest_status read_field(struct cb_reader *r, unsigned key, struct attest_result *res,
                                     struct parts *parts, char *err, size_t err_size)
{
    struct cb_item it;
    switch (key) {
    case K_MODULE_ID:
        if (cb_expect(r, CB_TEXT, &it) || it.len < 1 || it.len > ATTEST_MODULE_ID_MAX ||
            memchr(it.ptr, 0, it.len))
            return BAD("payload: module_id is not a non-empty text string");
        memcpy(res->module_id, it.ptr, it.len);
        res->module_id[it.len] = '\0';
        return ATTEST_OK;
    case K_DIGEST:
        if (cb_expect(r, CB_TEXT, &it) || !cb_is_text(&it, "SHA384"))
            return BAD("payload: digest is not \"SHA384\"");
        snprintf(res->digest, sizeof(res->digest), "SHA384");
        return ATTEST_OK;
    case K_TIMESTAMP:
        if (cb_expect(r, CB_UINT, &it) || it.val == 0)
            return BAD("payload: timestamp is not a positive integer");
        res->timestamp_ms = it.val;
        return ATTEST_OK;
    case K_PCRS:
        return read_pcrs(r, res, err, err_size);
    case K_CERTIFICATE:
        if (cb_expect(r, CB_BYTES, &it) || it.len < 1 || it.len > ATTEST_CERT_MAX)
            return BAD("payload: certificate is not a byte string of 1..%d bytes", ATTEST_CERT_MAX);
        parts->cert = it.ptr;
        parts->cert_len = it.len;
        return ATTEST_OK;
    case K_CABUNDLE:
        return read_cabundle(r, res, parts, err, err_size);
    case K_PUBLIC_KEY:
        return read_optional(r, "public_key", 1, &res->public_key, err, err_size);
    case K_USER_DATA:
        return read_optional(r, "user_data", 0, &res->user_data, err, err_size);
    case K_NONCE:
        return read_optional(r, "nonce", 0, &res->nonce, err, err_size);
    }
    return BAD("payload: unknown key");
}

static enum attest_status decode_payload(const uint8_t *p, size_t len, struct attest_result *res,
                                         struct parts *parts, char *err, size_t err_size)
{
    struct cb_reader r = {p, len};
    struct cb_item it;
    unsigned seen = 0;
    if (cb_expect(&r, CB_MAP, &it))
        return BAD("payload is not a CBOR map");
    if (it.val > 2 * sizeof(g_keys) / sizeof(g_keys[0]))
        return BAD("payload has %llu keys", (unsigned long long)it.val);
    for (uint64_t i = 0, n = it.val; i < n; i++) {
        unsigned key = 0;
        if (cb_expect(&r, CB_TEXT, &it))
            return BAD("payload has a key that is not a text string");
        for (size_t k = 0; k < sizeof(g_keys) / sizeof(g_keys[0]); k++)
            if (cb_is_text(&it, g_keys[k].name))
                key = g_keys[k].bit;
        if (key == 0)
            return BAD("payload has an unknown key \"%.*s\"", (int)(it.len > 40 ? 40 : it.len),
                       (const char *)it.ptr);
        if (seen & key)
            return BAD("payload has the key \"%.*s\" twice", (int)it.len, (const char *)it.ptr);
        seen |= key;
        enum attest_status st = read_field(&r, key, res, parts, err, err_size);
        if (st != ATTEST_OK)
            return st;
    }
    if ((seen & K_MANDATORY) != K_MANDATORY) {
        for (size_t k = 0; k < sizeof(g_keys) / sizeof(g_keys[0]); k++)
            if ((g_keys[k].bit & K_MANDATORY) && !(seen & g_keys[k].bit))
                return BAD("payload has no %s", g_keys[k].name);
    }
    if (r.left != 0)
        return BAD("payload has %zu bytes after its map", r.left);
    return ATTEST_OK;
}

/* ---- certificates ---- */

/* A DER certificate that must use all its bytes. */
static X509 *d2i_exact(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *cert = len <= 65536 ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (cert && p != der + len) {
        X509_free(cert);
        cert = NULL;
    }
    return cert;
}

static int asn1_to_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    *out = timegm(&tm);
    return 0;
}

static void iso_time(time_t t, char *out, size_t size)
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, size, "?");
}

static void subject_line(X509 *cert, char *out, size_t size)
{
    BIO *bio = BIO_new(BIO_s_mem());
    out[0] = '\0';
    if (bio && X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(bio, out, (int)size - 1);
        out[n > 0 ? n : 0] = '\0';
    }
    BIO_free(bio);
}

static bool ext_critical(X509 *cert, int nid)
{
    int i = X509_get_ext_by_NID(cert, nid, -1);
    return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, i)) == 1;
}

/* OpenSSL's X509_STRICT adds RFC 5280 profile checks to PKIX path validation. Genuine AWS Nitro
 * chains fail two of them: the signing certificate has no authorityKeyIdentifier (documents of
 * 2022 and 2024), and in documents of 2022 the instance CA (cabundle[N-1]) has neither an
 * authority nor a subject key identifier. Key identifiers only help to pick an issuer among
 * several candidates; here the issuer of each certificate is fixed by its place in the cabundle
 * (checked after X509_verify_cert), and each signature is still verified with that issuer's key.
 * So these two errors, and only these, are let through; X509_STRICT stays on for the rest. */
static int tolerate_missing_key_ids(int ok, X509_STORE_CTX *ctx)
{
    if (!ok) {
        int e = X509_STORE_CTX_get_error(ctx);
        if (e == X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER ||
            e == X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER) {
            X509_STORE_CTX_set_error(ctx, X509_V_OK);
            return 1;
        }
    }
    return ok;
}

struct chain {
    X509 *leaf, *anchor, *cab[ATTEST_CABUNDLE_MAX];
    X509_STORE *store;
    X509_STORE_CTX *ctx;
    STACK_OF(X509) * untrusted;
};

static void chain_free(struct chain *c)
{
    X509_STORE_CTX_free(c->ctx);
    X509_STORE_free(c->store);
    sk_X509_free(c->untrusted);
    X509_free(c->leaf);
    X509_free(c->anchor);
    for (int i = 0; i < ATTEST_CABUNDLE_MAX; i++)
        X509_free(c->cab[i]);
}

#define CHAIN(...) fail(err, err_size, ATTEST_CHAIN, "certificate chain: " __VA_ARGS__)

static enum attest_status check_chain(struct chain *c, const struct parts *parts,
                                      struct attest_result *res, const struct attest_policy *pol,
                                      time_t now, char *err, size_t err_size)
{
    time_t nb, na;
    if ((c->leaf = d2i_exact(parts->cert, parts->cert_len)) == NULL)
        return CHAIN("the certificate is not a DER X.509 certificate");
    subject_line(c->leaf, res->cert_subject, sizeof(res->cert_subject));
    if (asn1_to_time(X509_get0_notBefore(c->leaf), &nb) ||
        asn1_to_time(X509_get0_notAfter(c->leaf), &na))
        return CHAIN("the certificate's validity dates do not parse");
    iso_time(nb, res->cert_not_before, sizeof(res->cert_not_before));
    iso_time(na, res->cert_not_after, sizeof(res->cert_not_after));
    for (size_t i = 0; i < res->cabundle_n; i++)
        if ((c->cab[i] = d2i_exact(parts->cab[i], parts->cab_len[i])) == NULL)
            return CHAIN("cabundle[%zu] is not a DER X.509 certificate", i);
    if (pol->ca_der == NULL || (c->anchor = d2i_exact(pol->ca_der, pol->ca_der_len)) == NULL)
        return CHAIN("the pinned CA certificate does not parse");
    if (parts->cab_len[0] != pol->ca_der_len ||
        memcmp(parts->cab[0], pol->ca_der, pol->ca_der_len) != 0)
        return CHAIN("the root (cabundle[0]) is not the pinned CA");

    c->store = X509_STORE_new();
    c->ctx = X509_STORE_CTX_new();
    c->untrusted = sk_X509_new_null();
    if (c->store == NULL || c->ctx == NULL || c->untrusted == NULL ||
        X509_STORE_add_cert(c->store, c->anchor) != 1)
        return fail(err, err_size, ATTEST_INTERNAL, "out of memory");
    for (size_t i = 1; i < res->cabundle_n; i++)
        if (sk_X509_push(c->untrusted, c->cab[i]) <= 0)
            return fail(err, err_size, ATTEST_INTERNAL, "out of memory");
    if (X509_STORE_CTX_init(c->ctx, c->store, c->leaf, c->untrusted) != 1)
        return fail(err, err_size, ATTEST_INTERNAL, "cannot set up the chain verification");
    /* X509_STRICT stays on, with X509_V_FLAG_PARTIAL_CHAIN off (the default): the chain must end
     * at the pinned, self-signed root. tolerate_missing_key_ids lets exactly two of strict mode's
     * RFC 5280 profile checks pass, which genuine AWS chains fail; everything else, strict
     * checks included, still rejects. */
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(c->ctx);
    X509_VERIFY_PARAM_set_time(vp, now);
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT);
    X509_STORE_CTX_set_verify_cb(c->ctx, tolerate_missing_key_ids);
    if (X509_verify_cert(c->ctx) != 1) {
        int e = X509_STORE_CTX_get_error(c->ctx);
        return CHAIN("%s (at depth %d)", X509_verify_cert_error_string(e),
                     X509_STORE_CTX_get_error_depth(c->ctx));
    }
    /* The chain must be the document's own, in the spec's order: [certificate, cabundle[N-1],
     * ..., cabundle[1], the pinned root]. No cabundle entry may be left out or reordered; with
     * the issuer of each certificate fixed by its position, key identifiers have nothing left to
     * choose, which is why their absence is tolerated above. */
    STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(c->ctx);
    int n = (int)res->cabundle_n;
    if (sk_X509_num(built) != n + 1)
        return CHAIN("the chain to the pinned CA has %d certificates, the document %d (a "
                     "cabundle entry is unused)",
                     sk_X509_num(built), n + 1);
    for (int i = 1; i < n; i++) {
        if (X509_cmp(sk_X509_value(built, i), c->cab[n - i]) == 0)
            continue;
        char what[32] = "the signing certificate";
        if (i > 1)
            snprintf(what, sizeof(what), "cabundle[%d]", n - i + 1);
        return CHAIN("cabundle[%d] is not the issuer of %s (the order must be root first, the "
                     "signing certificate's issuer last)",
                     n - i, what);
    }
    for (int i = 1; i <= n; i++) {
        X509 *ca = sk_X509_value(built, i);
        uint32_t fl = X509_get_extension_flags(ca);
        if (!(fl & EXFLAG_CA) || !ext_critical(ca, NID_basic_constraints) ||
            !(fl & EXFLAG_KUSAGE) || !(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN))
            return CHAIN("the CA at depth %d lacks critical basicConstraints CA:TRUE or "
                         "keyCertSign",
                         i);
    }
    /* Every certificate of the chain has a P-384 key and is signed with ECDSA and SHA-384, as
     * AWS's (specs/nsm-runtime.md section 2.3) and alcove's own are. */
    for (int i = 0; i <= n; i++) {
        X509 *cert = sk_X509_value(built, i);
        if (!es384_key_ok(X509_get0_pubkey(cert)))
            return CHAIN("the certificate at depth %d does not have an EC P-384 key", i);
        if (X509_get_signature_nid(cert) != NID_ecdsa_with_SHA384)
            return CHAIN("the certificate at depth %d is not signed with ecdsa-with-SHA384", i);
    }
    uint32_t fl = X509_get_extension_flags(c->leaf);
    if (fl & EXFLAG_CA)
        return CHAIN("the signing certificate is a CA certificate");
    if (!(fl & EXFLAG_KUSAGE) || !(X509_get_key_usage(c->leaf) & KU_DIGITAL_SIGNATURE))
        return CHAIN("the signing certificate's keyUsage lacks digitalSignature");
    if (!es384_key_ok(X509_get0_pubkey(c->leaf)))
        return CHAIN("the signing certificate's key is not EC P-384");
    time_t ts = (time_t)(res->timestamp_ms / 1000);
    if (ts < nb || ts > na)
        return CHAIN("the document's timestamp is outside the signing certificate's validity");
    return ATTEST_OK;
}

/* ---- the policy ---- */

#define POLICY(...) fail(err, err_size, ATTEST_POLICY, __VA_ARGS__)

static enum attest_status check_policy(const struct attest_result *res,
                                       const struct attest_policy *pol, time_t now, char *err,
                                       size_t err_size)
{
    char got[2 * ATTEST_PCR_MAX_SIZE + 1], want[2 * ATTEST_PCR_MAX_SIZE + 1];
    if (res->debug && !pol->accept_debug)
        return POLICY("the document comes from a debug-mode enclave (PCR0 is all zeros), which "
                      "the policy does not accept");
    for (unsigned i = 0; i < ATTEST_MAX_PCRS; i++) {
        if (!(pol->pcr_mask & (1u << i)))
            continue;
        if (!(res->pcr_mask & (1u << i)))
            return POLICY("PCR%u is not in the document", i);
        if (res->pcr_len[i] != pol->pcr_len[i] ||
            memcmp(res->pcr[i], pol->pcr[i], pol->pcr_len[i]) != 0) {
            to_hex(res->pcr[i], res->pcr_len[i], got, sizeof(got));
            to_hex(pol->pcr[i], pol->pcr_len[i], want, sizeof(want));
            return POLICY("PCR%u is %s, expected %s", i, got, want);
        }
    }
    if (pol->check_nonce) {
        char g[65], w[65];
        if (!res->nonce.present)
            return POLICY("nonce mismatch: the document has no nonce");
        if (res->nonce.len != pol->nonce_len ||
            (pol->nonce_len && memcmp(res->nonce.data, pol->nonce, pol->nonce_len) != 0)) {
            to_hex(res->nonce.data, res->nonce.len, g, sizeof(g));
            to_hex(pol->nonce, pol->nonce_len, w, sizeof(w));
            return POLICY("nonce mismatch: the document has %s%s, expected %s%s", g,
                          res->nonce.len > 32 ? "..." : "", w, pol->nonce_len > 32 ? "..." : "");
        }
    }
    int64_t now_ms = (int64_t)now * 1000;
    int64_t ts = res->timestamp_ms > INT64_MAX ? INT64_MAX : (int64_t)res->timestamp_ms;
    if (ts > now_ms + ATTEST_CLOCK_SKEW_S * 1000)
        return POLICY("the timestamp is %lld s in the future", (long long)((ts - now_ms) / 1000));
    if (pol->max_age_s && now_ms - ts > (int64_t)pol->max_age_s * 1000)
        return POLICY("the document is %lld s old, more than the maximum age of %llu s",
                      (long long)((now_ms - ts) / 1000), (unsigned long long)pol->max_age_s);
    return ATTEST_OK;
}

/* ---- the time of the checks ---- */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int attest_parse_time(const char *s, time_t *out)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s == NULL || *s == '\0')
        return -1;
    if (strspn(s, "0123456789") == strlen(s)) { /* Unix seconds */
        if (strlen(s) > 12)
            return -1;
        long long v = strtoll(s, NULL, 10);
        if (v <= 0)
            return -1;
        *out = (time_t)v;
        return 0;
    }
    /* RFC 3339 date-time: YYYY-MM-DD, T (or t, or a space), hh:mm:ss, an optional fraction
     * (dropped: the checks work in whole seconds), then Z (or z) or +hh:mm / -hh:mm. */
    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return -1;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
        sign = 0;
    } else if ((p[0] == '+' || p[0] == '-') && digits(p + 1, 2, &oh) && p[3] == ':' &&
               digits(p + 4, 2, &om) && p[6] == '\0' && oh <= 23 && om <= 59) {
        sign = p[0] == '+' ? 1 : -1;
    } else {
        return -1;
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60)
        return -1;
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    /* a leap second (:60) counts as the second after :59, as POSIX time has no room for it */
    time_t t = timegm(&tm) + sec - sign * (oh * 3600 + om * 60);
    if (t <= 0)
        return -1;
    *out = t;
    return 0;
}

/* ---- all together ---- */

enum attest_status attest_verify(const uint8_t *doc, size_t len, const struct attest_policy *pol,
                                 struct attest_result *res, char *err, size_t err_size)
{
    struct cose_sign1 cose;
    struct parts parts = {0};
    struct chain chain = {0};
    struct cbuf tbs = {0};
    enum attest_status st;
    time_t now = pol->now ? pol->now : time(NULL);

    memset(res, 0, sizeof(*res));
    if (err && err_size)
        err[0] = '\0';
    if (doc == NULL || cose_sign1_decode(doc, len, &cose))
        return BAD("not a COSE_Sign1 (a CBOR array of 4: protected, unprotected, payload, "
                   "signature)");
    if (!cose_protected_is_es384(cose.prot, cose.prot_len, true))
        return BAD("the protected header is not {1: -35} (ES384)");
    if (cose.sig_len != ES384_SIG_SIZE)
        return BAD("the signature has %zu bytes, not %d", cose.sig_len, ES384_SIG_SIZE);
    st = decode_payload(cose.payload, cose.payload_len, res, &parts, err, err_size);
    if (st != ATTEST_OK)
        return st;
    if (res->pcr_mask & 1u) {
        res->debug = true;
        for (size_t i = 0; i < res->pcr_len[0]; i++)
            if (res->pcr[0][i])
                res->debug = false;
    }

    st = check_chain(&chain, &parts, res, pol, now, err, err_size);
    if (st == ATTEST_OK) {
        cose_put_sig_structure(&tbs, cose.prot, cose.prot_len, cose.payload, cose.payload_len);
        if (tbs.oom)
            st = fail(err, err_size, ATTEST_INTERNAL, "out of memory");
        else if (!es384_verify(X509_get0_pubkey(chain.leaf), tbs.p, tbs.len, cose.sig))
            st = fail(err, err_size, ATTEST_SIGNATURE,
                      "signature does not verify with the signing certificate's key");
    }
    if (st == ATTEST_OK)
        st = check_policy(res, pol, now, err, err_size);
    free(tbs.p);
    chain_free(&chain);
    ERR_clear_error();
    return st;
}
