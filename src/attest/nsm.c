/* nsm.c: NSM request handling (see nsm.h). A request is decoded with the shared pull reader into a
 * struct request: keys in any order, integers of any width (the value must fit nsm-api's u16),
 * byte strings or (as QEMU allows) text strings for the byte fields, null or a missing key for an
 * absent optional field, unknown keys of a known request skipped (as serde does); anything else,
 * trailing bytes included, is InvalidOperation. Responses are written with minimal-length heads in
 * nsm-api's serde field order, so their bytes equal a real NSM's. */
#include "attest/nsm.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/cbor_read.h"
#include "common/cbor_write.h"

static const char *const g_error_names[] = {
    [NSM_SUCCESS] = "Success",
    [NSM_INVALID_ARGUMENT] = "InvalidArgument",
    [NSM_INVALID_INDEX] = "InvalidIndex",
    [NSM_INVALID_RESPONSE] = "InvalidResponse",
    [NSM_READ_ONLY_INDEX] = "ReadOnlyIndex",
    [NSM_INVALID_OPERATION] = "InvalidOperation",
    [NSM_BUFFER_TOO_SMALL] = "BufferTooSmall",
    [NSM_INPUT_TOO_LARGE] = "InputTooLarge",
    [NSM_INTERNAL_ERROR] = "InternalError",
};

const char *nsm_error_name(enum nsm_error err)
{
    if ((unsigned)err >= sizeof(g_error_names) / sizeof(g_error_names[0]))
        return NULL;
    return g_error_names[err];
}

/* ---- state ---- */

int nsm_init(struct nsm *nsm, const uint8_t pcr0[NSM_PCR_SIZE], const uint8_t pcr1[NSM_PCR_SIZE],
             const uint8_t pcr2[NSM_PCR_SIZE], const uint8_t *pcr8, bool debug,
             const char *module_id, const struct attest_signer *signer)
{
    memset(nsm, 0, sizeof(*nsm));
    size_t len = module_id ? strlen(module_id) : 0;
    if (len == 0 || len > NSM_MODULE_ID_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (module_id[i] < 0x21 || module_id[i] > 0x7e)
            return -1;
    memcpy(nsm->module_id, module_id, len + 1);
    nsm->debug = debug;
    nsm->signer = signer;
    if (!debug) {
        memcpy(nsm->pcrs[0].value, pcr0, NSM_PCR_SIZE);
        memcpy(nsm->pcrs[1].value, pcr1, NSM_PCR_SIZE);
        memcpy(nsm->pcrs[2].value, pcr2, NSM_PCR_SIZE);
        if (pcr8)
            memcpy(nsm->pcrs[8].value, pcr8, NSM_PCR_SIZE);
    }
    for (int i = 0; i < NSM_LOCKED_AT_BOOT; i++)
        nsm->pcrs[i].locked = true;
    return 0;
}

void nsm_crypto_prepare(void)
{
    /* glibc reads the time zone file at its first conversion of a time, gmtime_r's included,
     * which OpenSSL makes for a leaf's validity: read it now */
    tzset();
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
    uint8_t b, md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (RAND_bytes(&b, 1) != 1 || EVP_Digest(&b, 1, md, &len, EVP_sha384(), NULL) != 1)
        ERR_clear_error(); /* reported again, and answered, at the request that fails */
}

void nsm_set_signer(struct nsm *nsm, const struct attest_signer *signer)
{
    nsm->signer = signer;
}

/* ---- decoding ---- */

enum op {
    OP_DESCRIBE_PCR,
    OP_EXTEND_PCR,
    OP_LOCK_PCR,
    OP_LOCK_PCRS,
    OP_DESCRIBE_NSM,
    OP_ATTESTATION,
    OP_GET_RANDOM,
};

/* The fields a request may carry, as bits. */
enum {
    F_INDEX = 1 << 0,
    F_RANGE = 1 << 1,
    F_DATA = 1 << 2,
    F_USER_DATA = 1 << 3,
    F_NONCE = 1 << 4,
    F_PUBLIC_KEY = 1 << 5,
};

struct op_desc {
    const char *name;
    enum op op;
    unsigned allowed, required;
};

static const struct op_desc g_map_ops[] = {
    {"DescribePCR", OP_DESCRIBE_PCR, F_INDEX, F_INDEX},
    {"ExtendPCR", OP_EXTEND_PCR, F_INDEX | F_DATA, F_INDEX | F_DATA},
    {"LockPCR", OP_LOCK_PCR, F_INDEX, F_INDEX},
    {"LockPCRs", OP_LOCK_PCRS, F_RANGE, F_RANGE},
    {"Attestation", OP_ATTESTATION, F_USER_DATA | F_NONCE | F_PUBLIC_KEY, 0},
};

static const struct {
    const char *name;
    unsigned bit;
} g_fields[] = {
    {"index", F_INDEX},         {"range", F_RANGE}, {"data", F_DATA},
    {"user_data", F_USER_DATA}, {"nonce", F_NONCE}, {"public_key", F_PUBLIC_KEY},
};

struct request {
    enum op op;
    uint64_t index; /* index, or range for LockPCRs */
    struct attest_bytes data, user_data, nonce, public_key;
};

/* A u16 field: any integer width, value up to 0xffff. */
static int read_u16(struct cb_reader *r, uint64_t *out)
{
    struct cb_item it;
    if (cb_expect(r, CB_UINT, &it) || it.val > 0xffff)
        return -1;
    *out = it.val;
    return 0;
}

/* A byte field: a byte string or a text string; null (absent) when nullable. */
static int read_bytes(struct cb_reader *r, struct attest_bytes *out, bool nullable)
{
    static const uint8_t empty[1];
    struct cb_item it;
    if (cb_next(r, &it))
        return -1;
    if (it.kind == CB_NULL && nullable) {
        out->ptr = NULL;
        out->len = 0;
        return 0;
    }
    if (it.kind != CB_BYTES && it.kind != CB_TEXT)
        return -1;
    out->ptr = it.len ? it.ptr : empty; /* present, even when empty */
    out->len = it.len;
    return 0;
}

static int read_fields(struct cb_reader *r, const struct op_desc *d, struct request *rq)
{
    struct cb_item it;
    unsigned seen = 0;
    if (cb_expect(r, CB_MAP, &it) || it.val > r->left)
        return -1;
    for (uint64_t i = 0, n = it.val; i < n; i++) {
        unsigned bit = 0;
        if (cb_expect(r, CB_TEXT, &it))
            return -1;
        for (size_t f = 0; f < sizeof(g_fields) / sizeof(g_fields[0]); f++)
            if (cb_is_text(&it, g_fields[f].name))
                bit = g_fields[f].bit;
        if (!(bit & d->allowed)) {
            if (cb_skip(r, 1)) /* a field this request does not have: ignored */
                return -1;
            continue;
        }
        if (seen & bit)
            return -1; /* duplicate key */
        seen |= bit;
        int rc = 0;
        switch (bit) {
        case F_INDEX:
        case F_RANGE:
            rc = read_u16(r, &rq->index);
            break;
        case F_DATA:
            rc = read_bytes(r, &rq->data, false);
            break;
        case F_USER_DATA:
            rc = read_bytes(r, &rq->user_data, true);
            break;
        case F_NONCE:
            rc = read_bytes(r, &rq->nonce, true);
            break;
        case F_PUBLIC_KEY:
            rc = read_bytes(r, &rq->public_key, true);
            break;
        }
        if (rc)
            return -1;
    }
    return (seen & d->required) == d->required ? 0 : -1;
}

/* 0 or InvalidOperation. */
static enum nsm_error decode_request(const uint8_t *req, size_t len, struct request *rq)
{
    struct cb_reader r = {req, len};
    struct cb_item it;
    memset(rq, 0, sizeof(*rq));
    if (cb_next(&r, &it))
        return NSM_INVALID_OPERATION;
    if (it.kind == CB_TEXT) {
        if (cb_is_text(&it, "DescribeNSM"))
            rq->op = OP_DESCRIBE_NSM;
        else if (cb_is_text(&it, "GetRandom"))
            rq->op = OP_GET_RANDOM;
        else
            return NSM_INVALID_OPERATION;
    } else if (it.kind == CB_MAP && it.val == 1) {
        const struct op_desc *d = NULL;
        if (cb_expect(&r, CB_TEXT, &it))
            return NSM_INVALID_OPERATION;
        for (size_t i = 0; i < sizeof(g_map_ops) / sizeof(g_map_ops[0]); i++)
            if (cb_is_text(&it, g_map_ops[i].name))
                d = &g_map_ops[i];
        if (d == NULL || read_fields(&r, d, rq))
            return NSM_INVALID_OPERATION;
        rq->op = d->op;
    } else {
        return NSM_INVALID_OPERATION;
    }
    return r.left == 0 ? NSM_SUCCESS : NSM_INVALID_OPERATION;
}

/* ---- handling ---- */

static uint64_t realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int extend(uint8_t pcr[NSM_PCR_SIZE], const uint8_t *data, size_t len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    uint8_t out[EVP_MAX_MD_SIZE];
    int ok = md && EVP_DigestInit_ex(md, EVP_sha384(), NULL) == 1 &&
             EVP_DigestUpdate(md, pcr, NSM_PCR_SIZE) == 1 &&
             (len == 0 || EVP_DigestUpdate(md, data, len) == 1) &&
             EVP_DigestFinal_ex(md, out, &n) == 1 && n == NSM_PCR_SIZE;
    EVP_MD_CTX_free(md);
    if (!ok)
        return -1;
    memcpy(pcr, out, NSM_PCR_SIZE);
    return 0;
}

static bool field_too_large(const struct attest_bytes *b)
{
    return b->ptr && b->len > ATTEST_FIELD_MAX;
}

static enum nsm_error attestation(struct nsm *nsm, struct request *rq, struct cbuf *out)
{
    uint8_t pcrs[NSM_MAX_PCRS][ATTEST_PCR_SIZE];
    uint32_t mask = 0;
    uint8_t *doc;
    size_t doc_len;

    if (field_too_large(&rq->user_data) || field_too_large(&rq->nonce) ||
        field_too_large(&rq->public_key))
        return NSM_INPUT_TOO_LARGE;
    if (nsm->refresh_signer)
        nsm->refresh_signer(nsm->refresh_ctx);
    if (nsm->signer == NULL)
        return NSM_INTERNAL_ERROR;
    for (unsigned i = 0; i < NSM_MAX_PCRS; i++) {
        memcpy(pcrs[i], nsm->pcrs[i].value, ATTEST_PCR_SIZE);
        if (nsm->pcrs[i].locked)
            mask |= 1u << i;
    }
    struct attest_doc_fields f = {
        .module_id = nsm->module_id,
        .timestamp_ms = nsm->clock_ms ? nsm->clock_ms(nsm->clock_ctx) : realtime_ms(),
        .pcrs = (const uint8_t(*)[ATTEST_PCR_SIZE])pcrs,
        .pcr_mask = mask,
        .public_key = rq->public_key,
        .user_data = rq->user_data,
        .nonce = rq->nonce,
    };
    /* a verifier wants public_key 1..1024 bytes: an empty one is written as absent */
    if (f.public_key.ptr && f.public_key.len == 0)
        f.public_key.ptr = NULL;
    if (attest_document_build(nsm->signer, &f, &doc, &doc_len))
        return NSM_INTERNAL_ERROR;
    cbw_map(out, 1);
    cbw_text(out, "Attestation");
    cbw_map(out, 1);
    cbw_text(out, "document");
    cbw_bytes(out, doc, doc_len);
    free(doc);
    return NSM_SUCCESS;
}

/* Executes the request, appending a success response to out, or returns the error. */
static enum nsm_error execute(struct nsm *nsm, struct request *rq, struct cbuf *out)
{
    struct nsm_pcr *pcr = rq->index < NSM_MAX_PCRS ? &nsm->pcrs[rq->index] : NULL;
    uint8_t random[NSM_RANDOM_SIZE];

    switch (rq->op) {
    case OP_DESCRIBE_PCR:
        if (pcr == NULL)
            return NSM_INVALID_INDEX;
        cbw_map(out, 1);
        cbw_text(out, "DescribePCR");
        cbw_map(out, 2);
        cbw_text(out, "lock");
        cbw_bool(out, pcr->locked);
        cbw_text(out, "data");
        cbw_bytes(out, pcr->value, NSM_PCR_SIZE);
        return NSM_SUCCESS;
    case OP_EXTEND_PCR:
        if (pcr == NULL)
            return NSM_INVALID_INDEX;
        if (pcr->locked)
            return NSM_READ_ONLY_INDEX;
        if (extend(pcr->value, rq->data.ptr, rq->data.len))
            return NSM_INTERNAL_ERROR;
        cbw_map(out, 1);
        cbw_text(out, "ExtendPCR");
        cbw_map(out, 1);
        cbw_text(out, "data");
        cbw_bytes(out, pcr->value, NSM_PCR_SIZE);
        return NSM_SUCCESS;
    case OP_LOCK_PCR:
        if (pcr == NULL)
            return NSM_INVALID_INDEX;
        if (pcr->locked)
            return NSM_READ_ONLY_INDEX;
        pcr->locked = true;
        cbw_text(out, "LockPCR");
        return NSM_SUCCESS;
    case OP_LOCK_PCRS:
        if (rq->index > NSM_MAX_PCRS)
            return NSM_INVALID_INDEX;
        for (uint64_t i = 0; i < rq->index; i++)
            nsm->pcrs[i].locked = true;
        cbw_text(out, "LockPCRs");
        return NSM_SUCCESS;
    case OP_DESCRIBE_NSM: {
        unsigned nlocked = 0;
        for (unsigned i = 0; i < NSM_MAX_PCRS; i++)
            nlocked += nsm->pcrs[i].locked;
        cbw_map(out, 1);
        cbw_text(out, "DescribeNSM");
        cbw_map(out, 7);
        cbw_text(out, "version_major");
        cbw_uint(out, NSM_VERSION_MAJOR);
        cbw_text(out, "version_minor");
        cbw_uint(out, NSM_VERSION_MINOR);
        cbw_text(out, "version_patch");
        cbw_uint(out, NSM_VERSION_PATCH);
        cbw_text(out, "module_id");
        cbw_text(out, nsm->module_id);
        cbw_text(out, "max_pcrs");
        cbw_uint(out, NSM_MAX_PCRS);
        cbw_text(out, "locked_pcrs");
        cbw_array(out, nlocked);
        for (unsigned i = 0; i < NSM_MAX_PCRS; i++)
            if (nsm->pcrs[i].locked)
                cbw_uint(out, i);
        cbw_text(out, "digest");
        cbw_text(out, "SHA384");
        return NSM_SUCCESS;
    }
    case OP_ATTESTATION:
        return attestation(nsm, rq, out);
    case OP_GET_RANDOM:
        if (RAND_bytes(random, sizeof(random)) != 1)
            return NSM_INTERNAL_ERROR;
        /* exactly the layout the Linux hwrng expects: a1 69 "GetRandom" a1 66 "random" 59 0100 */
        cbw_map(out, 1);
        cbw_text(out, "GetRandom");
        cbw_map(out, 1);
        cbw_text(out, "random");
        cbw_bytes(out, random, sizeof(random));
        OPENSSL_cleanse(random, sizeof(random));
        return NSM_SUCCESS;
    }
    return NSM_INVALID_OPERATION;
}

static size_t error_response(enum nsm_error err, uint8_t *resp, size_t cap)
{
    struct cbuf b = {0};
    size_t n = 0;
    cbw_map(&b, 1);
    cbw_text(&b, "Error");
    cbw_text(&b, nsm_error_name(err));
    if (!b.oom && b.len <= cap) {
        memcpy(resp, b.p, b.len);
        n = b.len;
    }
    free(b.p);
    return n;
}

size_t nsm_handle(struct nsm *nsm, const uint8_t *req, size_t req_len, uint8_t *resp,
                  size_t resp_cap)
{
    struct request rq;
    struct cbuf out = {0};
    enum nsm_error err;

    if (req_len > NSM_REQUEST_MAX_SIZE)
        return error_response(NSM_INPUT_TOO_LARGE, resp, resp_cap);
    if (req == NULL || req_len == 0)
        return error_response(NSM_INVALID_OPERATION, resp, resp_cap);
    err = decode_request(req, req_len, &rq);
    if (err == NSM_SUCCESS)
        err = execute(nsm, &rq, &out);
    if (err == NSM_SUCCESS && (out.oom || out.len > resp_cap))
        err = NSM_INTERNAL_ERROR;
    if (err != NSM_SUCCESS) {
        free(out.p);
        return error_response(err, resp, resp_cap);
    }
    memcpy(resp, out.p, out.len);
    free(out.p);
    return out.len;
}
