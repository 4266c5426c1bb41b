/* nsm_msg.c: encoding of NSM requests and decoding of NSM responses (see nsm_msg.h). The
 * decoder accepts what nsm-api's serde decoder accepts for the Response enum, minus the exotic
 * (struct variants given as arrays): a text string for a unit variant, a one-pair map for the
 * others, fields found by name in any order, unknown fields ignored, a missing, repeated or
 * wrongly typed field an error. Anything it refuses is ERROR_CODE_INTERNAL_ERROR, as nsm-api
 * gives for a response it cannot decode. */
#include "nsm_msg.h"

#include <string.h>

static const char *const error_names[] = {
    [ERROR_CODE_SUCCESS] = "Success",
    [ERROR_CODE_INVALID_ARGUMENT] = "InvalidArgument",
    [ERROR_CODE_INVALID_INDEX] = "InvalidIndex",
    [ERROR_CODE_INVALID_RESPONSE] = "InvalidResponse",
    [ERROR_CODE_READ_ONLY_INDEX] = "ReadOnlyIndex",
    [ERROR_CODE_INVALID_OPERATION] = "InvalidOperation",
    [ERROR_CODE_BUFFER_TOO_SMALL] = "BufferTooSmall",
    [ERROR_CODE_INPUT_TOO_LARGE] = "InputTooLarge",
    [ERROR_CODE_INTERNAL_ERROR] = "InternalError",
};
#define N_ERRORS (sizeof(error_names) / sizeof(error_names[0]))

int nsm_error_from_name(const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < N_ERRORS; i++)
        if (strlen(error_names[i]) == len && memcmp(error_names[i], name, len) == 0)
            return (int)i;
    return -1;
}

const char *nsm_error_name(ErrorCode code)
{
    return (unsigned)code < N_ERRORS ? error_names[code] : NULL;
}

/* ---- requests ---- */

/* {"<variant>": {"<field>": value}} with one uint field. */
static size_t req_one_uint(uint8_t *buf, size_t cap, const char *variant, const char *field,
                           uint16_t v)
{
    struct cbor_enc e;
    cbor_enc_init(&e, buf, cap);
    cbor_put_map(&e, 1);
    cbor_put_text(&e, variant);
    cbor_put_map(&e, 1);
    cbor_put_text(&e, field);
    cbor_put_uint(&e, v);
    return e.len;
}

size_t nsm_req_describe_pcr(uint8_t *buf, size_t cap, uint16_t index)
{
    return req_one_uint(buf, cap, "DescribePCR", "index", index);
}

size_t nsm_req_lock_pcr(uint8_t *buf, size_t cap, uint16_t index)
{
    return req_one_uint(buf, cap, "LockPCR", "index", index);
}

size_t nsm_req_lock_pcrs(uint8_t *buf, size_t cap, uint16_t range)
{
    return req_one_uint(buf, cap, "LockPCRs", "range", range);
}

size_t nsm_req_extend_pcr(uint8_t *buf, size_t cap, uint16_t index, const uint8_t *data,
                          size_t data_len)
{
    struct cbor_enc e;
    cbor_enc_init(&e, buf, cap);
    cbor_put_map(&e, 1);
    cbor_put_text(&e, "ExtendPCR");
    cbor_put_map(&e, 2);
    cbor_put_text(&e, "index");
    cbor_put_uint(&e, index);
    cbor_put_text(&e, "data");
    cbor_put_bstr(&e, data, data_len);
    return e.len;
}

/* A unit variant: just its name. */
static size_t req_unit(uint8_t *buf, size_t cap, const char *variant)
{
    struct cbor_enc e;
    cbor_enc_init(&e, buf, cap);
    cbor_put_text(&e, variant);
    return e.len;
}

size_t nsm_req_describe_nsm(uint8_t *buf, size_t cap)
{
    return req_unit(buf, cap, "DescribeNSM");
}

size_t nsm_req_get_random(uint8_t *buf, size_t cap)
{
    return req_unit(buf, cap, "GetRandom");
}

static void put_opt_bstr(struct cbor_enc *e, const char *field, const uint8_t *p, size_t n)
{
    cbor_put_text(e, field);
    if (p)
        cbor_put_bstr(e, p, n);
    else
        cbor_put_null(e);
}

size_t nsm_req_attestation(uint8_t *buf, size_t cap, const uint8_t *user_data, size_t user_data_len,
                           const uint8_t *nonce, size_t nonce_len, const uint8_t *public_key,
                           size_t public_key_len)
{
    struct cbor_enc e;
    cbor_enc_init(&e, buf, cap);
    cbor_put_map(&e, 1);
    cbor_put_text(&e, "Attestation");
    cbor_put_map(&e, 3);
    put_opt_bstr(&e, "user_data", user_data, user_data_len);
    put_opt_bstr(&e, "nonce", nonce, nonce_len);
    put_opt_bstr(&e, "public_key", public_key, public_key_len);
    return e.len;
}

/* ---- responses ---- */

/* The field `name` of a struct variant's map, which must be present once. */
static bool field(const struct cbor_item *fields, const char *name, struct cbor_item *out)
{
    return cbor_map_find(fields, name, out) == CBOR_OK;
}

static bool field_bytes(const struct cbor_item *fields, const char *name, const uint8_t **p,
                        size_t *n)
{
    struct cbor_item v;
    if (!field(fields, name, &v) || v.type != CBOR_BSTR)
        return false;
    *p = v.data;
    *n = v.len;
    return true;
}

static bool field_u16(const struct cbor_item *fields, const char *name, uint16_t *out)
{
    struct cbor_item v;
    uint64_t x;
    if (!field(fields, name, &v) || cbor_get_uint(&v, 0xffff, &x) != CBOR_OK)
        return false;
    *out = (uint16_t)x;
    return true;
}

static bool decode_describe_nsm(const struct cbor_item *f, struct nsm_response *r)
{
    struct cbor_item v, e;
    struct cbor_iter it;
    if (!field_u16(f, "version_major", &r->version_major) ||
        !field_u16(f, "version_minor", &r->version_minor) ||
        !field_u16(f, "version_patch", &r->version_patch) ||
        !field_u16(f, "max_pcrs", &r->max_pcrs))
        return false;
    if (!field(f, "module_id", &v) || v.type != CBOR_TSTR)
        return false;
    r->module_id = v.data;
    r->module_id_len = v.len;
    if (!field(f, "locked_pcrs", &r->locked_pcrs) || r->locked_pcrs.type != CBOR_ARRAY ||
        cbor_iter_init(&r->locked_pcrs, &it) != CBOR_OK)
        return false;
    while (cbor_iter_next(&it, &e) == CBOR_OK) {
        uint64_t x;
        if (cbor_get_uint(&e, 0xffff, &x) != CBOR_OK)
            return false;
    }
    if (!field(f, "digest", &v))
        return false;
    if (cbor_text_eq(&v, "SHA256"))
        r->digest = DIGEST_SHA256;
    else if (cbor_text_eq(&v, "SHA384"))
        r->digest = DIGEST_SHA384;
    else if (cbor_text_eq(&v, "SHA512"))
        r->digest = DIGEST_SHA512;
    else
        return false;
    return true;
}

/* A struct (or newtype) variant: name and contents of a one-pair map. */
static bool decode_tagged(const struct cbor_item *name, const struct cbor_item *f,
                          struct nsm_response *r)
{
    if (cbor_text_eq(name, "Error")) {
        int code = f->type == CBOR_TSTR ? nsm_error_from_name(f->data, f->len) : -1;
        if (code < 0)
            return false;
        r->kind = NSM_RESP_ERROR;
        r->error = (ErrorCode)code;
        return true;
    }
    if (f->type != CBOR_MAP)
        return false;
    if (cbor_text_eq(name, "DescribePCR")) {
        struct cbor_item v;
        r->kind = NSM_RESP_DESCRIBE_PCR;
        return field(f, "lock", &v) && cbor_get_bool(&v, &r->lock) == CBOR_OK &&
               field_bytes(f, "data", &r->data, &r->data_len);
    }
    if (cbor_text_eq(name, "ExtendPCR")) {
        r->kind = NSM_RESP_EXTEND_PCR;
        return field_bytes(f, "data", &r->data, &r->data_len);
    }
    if (cbor_text_eq(name, "Attestation")) {
        r->kind = NSM_RESP_ATTESTATION;
        return field_bytes(f, "document", &r->data, &r->data_len);
    }
    if (cbor_text_eq(name, "GetRandom")) {
        r->kind = NSM_RESP_GET_RANDOM;
        return field_bytes(f, "random", &r->data, &r->data_len);
    }
    if (cbor_text_eq(name, "DescribeNSM")) {
        r->kind = NSM_RESP_DESCRIBE_NSM;
        return decode_describe_nsm(f, r);
    }
    return false;
}

ErrorCode nsm_decode_response(const uint8_t *buf, size_t len, struct nsm_response *out)
{
    struct cbor_item top, name, contents;
    struct cbor_iter it;
    memset(out, 0, sizeof(*out));
    if (cbor_decode(buf, len, &top) != CBOR_OK)
        return ERROR_CODE_INTERNAL_ERROR;
    if (top.type == CBOR_TSTR) {
        if (cbor_text_eq(&top, "LockPCR"))
            out->kind = NSM_RESP_LOCK_PCR;
        else if (cbor_text_eq(&top, "LockPCRs"))
            out->kind = NSM_RESP_LOCK_PCRS;
        else
            return ERROR_CODE_INTERNAL_ERROR;
        return ERROR_CODE_SUCCESS;
    }
    if (top.type != CBOR_MAP || top.count != 1 || cbor_iter_init(&top, &it) != CBOR_OK ||
        cbor_iter_next(&it, &name) != CBOR_OK || cbor_iter_next(&it, &contents) != CBOR_OK)
        return ERROR_CODE_INTERNAL_ERROR;
    return decode_tagged(&name, &contents, out) ? ERROR_CODE_SUCCESS : ERROR_CODE_INTERNAL_ERROR;
}
