/* cose.c: COSE_Sign1 ES384 (see cose.h): decoding the envelope, the protected header, the
 * Sig_structure, and raw r || s ECDSA P-384 signatures through OpenSSL's EVP interface (which
 * speaks DER, so signatures are converted both ways). */
#include "common/cose.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "common/cbor_read.h"

int cose_sign1_decode(const uint8_t *buf, size_t len, struct cose_sign1 *c)
{
    struct cb_reader r = {buf, len};
    struct cb_item it;
    memset(c, 0, sizeof(*c));
    if (cb_next(&r, &it))
        return -1;
    if (it.kind == CB_TAG) {
        if (it.val != COSE_SIGN1_TAG || cb_next(&r, &it))
            return -1;
        c->tagged = true;
    }
    if (it.kind != CB_ARRAY || it.val != 4 || cb_expect(&r, CB_BYTES, &it))
        return -1;
    c->prot = it.ptr;
    c->prot_len = it.len;
    /* The unprotected header: any map (Nitro writes an empty one). */
    if (cb_expect(&r, CB_MAP, &it) || it.val > r.left || cb_skip(&r, 2 * it.val))
        return -1;
    if (cb_expect(&r, CB_BYTES, &it))
        return -1;
    c->payload = it.ptr;
    c->payload_len = it.len;
    if (cb_expect(&r, CB_BYTES, &it))
        return -1;
    c->sig = it.ptr;
    c->sig_len = it.len;
    return r.left == 0 ? 0 : -1;
}

bool cose_protected_is_es384(const uint8_t *buf, size_t len, bool exact)
{
    struct cb_reader r = {buf, len};
    struct cb_item it, val;
    bool es384 = false;
    if (cb_expect(&r, CB_MAP, &it) || it.val > r.left || (exact && it.val != 1))
        return false;
    for (uint64_t i = 0, n = it.val; i < n; i++) {
        if (cb_next(&r, &it))
            return false;
        if (it.kind == CB_UINT && it.val == 1) {
            if (cb_expect(&r, CB_NEGINT, &val) || val.val != ES384_ALG - 1 || es384)
                return false;
            es384 = true;
        } else if (it.kind == CB_UINT || it.kind == CB_NEGINT || it.kind == CB_TEXT) {
            if (cb_skip(&r, 1))
                return false;
        } else {
            return false;
        }
    }
    return es384 && r.left == 0;
}

void cose_put_protected_es384(struct cbuf *b)
{
    cbw_map(b, 1);
    cbw_uint(b, 1);
    cbw_negint(b, ES384_ALG - 1);
}

void cose_put_sig_structure(struct cbuf *b, const uint8_t *prot, size_t prot_len,
                            const uint8_t *payload, size_t payload_len)
{
    cbw_array(b, 4);
    cbw_text(b, "Signature1");
    cbw_bytes(b, prot, prot_len);
    cbw_bytes(b, "", 0);
    cbw_bytes(b, payload, payload_len);
}

bool es384_key_ok(const EVP_PKEY *key)
{
    char group[64];
    size_t len = 0;
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return false;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1)
        return false;
    return strcmp(group, SN_secp384r1) == 0;
}

int es384_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t rs[ES384_SIG_SIZE])
{
    int ret = -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int max = EVP_PKEY_get_size(key);
    unsigned char *der = max > 0 ? OPENSSL_malloc((size_t)max) : NULL;
    size_t der_len = (size_t)max;
    ECDSA_SIG *sig = NULL;
    const BIGNUM *r, *s;
    if (md == NULL || der == NULL || EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) != 1 ||
        EVP_DigestSign(md, der, &der_len, msg, len) != 1)
        goto out;
    const unsigned char *p = der;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (sig == NULL)
        goto out;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, rs, ES384_SIG_SIZE / 2) != ES384_SIG_SIZE / 2 ||
        BN_bn2binpad(s, rs + ES384_SIG_SIZE / 2, ES384_SIG_SIZE / 2) != ES384_SIG_SIZE / 2)
        goto out;
    ret = 0;
out:
    ECDSA_SIG_free(sig);
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    return ret;
}

bool es384_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t rs[ES384_SIG_SIZE])
{
    bool ok = false;
    unsigned char *der = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, ES384_SIG_SIZE / 2, NULL);
    BIGNUM *s = BN_bin2bn(rs + ES384_SIG_SIZE / 2, ES384_SIG_SIZE / 2, NULL);
    if (md == NULL || sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by sig now */
    int der_len = i2d_ECDSA_SIG(sig, &der);
    if (der_len <= 0 || EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) != 1)
        goto out;
    ok = EVP_DigestVerify(md, der, (size_t)der_len, msg, len) == 1;
out:
    BN_free(r);
    BN_free(s);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    return ok;
}
