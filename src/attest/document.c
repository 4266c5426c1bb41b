/* document.c: building and signing attestation documents (see document.h). The payload is written
 * field by field with the shared CBOR writer so that the bytes are exactly those a Nitro NSM
 * produces (key order, integer widths, nulls); the signature is COSE ES384 from common/cose.c. */
#include "attest/document.h"

#include <stdlib.h>
#include <string.h>

#include "common/cbor_write.h"
#include "common/cose.h"

void attest_signer_free(struct attest_signer *s)
{
    if (s == NULL)
        return;
    EVP_PKEY_free(s->key);
    free(s->cert_der);
    for (size_t i = 0; i < ATTEST_CABUNDLE_MAX; i++)
        free(s->cabundle[i]);
    memset(s, 0, sizeof(*s));
}

static void put_optional(struct cbuf *b, const char *key, const struct attest_bytes *v)
{
    cbw_text(b, key);
    if (v->ptr)
        cbw_bytes(b, v->ptr, v->len);
    else
        cbw_null(b);
}

static void put_payload(struct cbuf *b, const struct attest_signer *s,
                        const struct attest_doc_fields *f)
{
    unsigned npcrs = (unsigned)__builtin_popcount(f->pcr_mask);
    cbw_map(b, 9);
    cbw_text(b, "module_id");
    cbw_text(b, f->module_id);
    cbw_text(b, "digest");
    cbw_text(b, "SHA384");
    cbw_text(b, "timestamp");
    cbw_uint64_wide(b, f->timestamp_ms);
    cbw_text(b, "pcrs");
    cbw_map(b, npcrs);
    for (unsigned i = 0; i < ATTEST_MAX_PCRS; i++) {
        if (f->pcr_mask & (1u << i)) {
            cbw_uint(b, i);
            cbw_bytes(b, f->pcrs[i], ATTEST_PCR_SIZE);
        }
    }
    cbw_text(b, "certificate");
    cbw_bytes(b, s->cert_der, s->cert_len);
    cbw_text(b, "cabundle");
    cbw_array(b, s->cabundle_n);
    for (size_t i = 0; i < s->cabundle_n; i++)
        cbw_bytes(b, s->cabundle[i], s->cabundle_len[i]);
    put_optional(b, "public_key", &f->public_key);
    put_optional(b, "user_data", &f->user_data);
    put_optional(b, "nonce", &f->nonce);
}

static bool field_ok(const struct attest_bytes *v)
{
    return v->ptr == NULL || v->len <= ATTEST_FIELD_MAX;
}

int attest_document_build(const struct attest_signer *signer, const struct attest_doc_fields *f,
                          uint8_t **out, size_t *out_len)
{
    int ret = -1;
    struct cbuf payload = {0}, prot = {0}, tbs = {0}, doc = {0};
    uint8_t rs[ES384_SIG_SIZE];

    *out = NULL;
    *out_len = 0;
    if (signer == NULL || signer->key == NULL || signer->cert_der == NULL ||
        signer->cabundle_n == 0 || signer->cabundle_n > ATTEST_CABUNDLE_MAX ||
        f->module_id == NULL || f->module_id[0] == '\0' || f->pcr_mask == 0 || f->pcrs == NULL ||
        !field_ok(&f->public_key) || !field_ok(&f->user_data) || !field_ok(&f->nonce))
        return -1;

    put_payload(&payload, signer, f);
    cose_put_protected_es384(&prot);
    cose_put_sig_structure(&tbs, prot.p, prot.len, payload.p, payload.len);
    if (payload.oom || prot.oom || tbs.oom || es384_sign(signer->key, tbs.p, tbs.len, rs))
        goto out;
    cbw_array(&doc, 4);
    cbw_bytes(&doc, prot.p, prot.len);
    cbw_map(&doc, 0);
    cbw_bytes(&doc, payload.p, payload.len);
    cbw_bytes(&doc, rs, sizeof(rs));
    if (doc.oom)
        goto out;
    *out = doc.p;
    *out_len = doc.len;
    doc.p = NULL;
    ret = 0;
out:
    free(payload.p);
    free(prot.p);
    free(tbs.p);
    free(doc.p);
    return ret;
}
