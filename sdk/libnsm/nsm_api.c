/* nsm_api.c: libnsm's public functions (alcove/nsm.h). Each encodes its request, refuses one
 * over NSM_REQUEST_MAX_SIZE without sending it, exchanges it through the transport with a
 * NSM_RESPONSE_MAX_SIZE response buffer on the stack, decodes the response, and maps it to an
 * ErrorCode: the device's own error, ERROR_CODE_INVALID_RESPONSE for a response to some other
 * request, ERROR_CODE_BUFFER_TOO_SMALL (after copying what fits) for a short output buffer. */
#include <string.h>

#include "alcove/nsm.h"
#include "nsm_msg.h"
#include "nsm_transport.h"

/* Sends the request encoded in req (req_len bytes: possibly more than was written, then it is
 * too large) and decodes the response, which must be of kind `want`. */
static ErrorCode process(int32_t fd, const uint8_t *req, size_t req_len, uint8_t *resp,
                         enum nsm_resp_kind want, struct nsm_response *r)
{
    size_t resp_len = NSM_RESPONSE_MAX_SIZE;
    if (req_len > NSM_REQUEST_MAX_SIZE)
        return ERROR_CODE_INPUT_TOO_LARGE;
    ErrorCode rc = nsm_transport_exchange(fd, req, req_len, resp, &resp_len);
    if (rc != ERROR_CODE_SUCCESS)
        return rc;
    rc = nsm_decode_response(resp, resp_len, r);
    if (rc != ERROR_CODE_SUCCESS)
        return rc;
    if (r->kind == NSM_RESP_ERROR)
        /* an error response that names no error answers nothing */
        return r->error == ERROR_CODE_SUCCESS ? ERROR_CODE_INVALID_RESPONSE : r->error;
    return r->kind == want ? ERROR_CODE_SUCCESS : ERROR_CODE_INVALID_RESPONSE;
}

/* Copies n bytes to the caller's buffer of capacity *cap, truncating. */
static ErrorCode copy_out(const uint8_t *src, size_t n, uint8_t *dst, uint32_t *cap)
{
    if (!dst) {
        *cap = 0;
        return ERROR_CODE_BUFFER_TOO_SMALL;
    }
    size_t k = n < *cap ? n : *cap;
    memcpy(dst, src, k);
    *cap = (uint32_t)k;
    return k < n ? ERROR_CODE_BUFFER_TOO_SMALL : ERROR_CODE_SUCCESS;
}

ErrorCode nsm_extend_pcr(int32_t fd, uint16_t index, const uint8_t *data, uint32_t data_len,
                         uint8_t *pcr_data, uint32_t *pcr_data_len)
{
    uint8_t req[NSM_REQUEST_MAX_SIZE], resp[NSM_RESPONSE_MAX_SIZE];
    struct nsm_response r;
    if (!data || !pcr_data_len)
        return ERROR_CODE_INVALID_ARGUMENT;
    size_t n = nsm_req_extend_pcr(req, sizeof(req), index, data, data_len);
    ErrorCode rc = process(fd, req, n, resp, NSM_RESP_EXTEND_PCR, &r);
    if (rc != ERROR_CODE_SUCCESS)
        return rc;
    return copy_out(r.data, r.data_len, pcr_data, pcr_data_len);
}

ErrorCode nsm_describe_pcr(int32_t fd, uint16_t index, bool *lock, uint8_t *data,
                           uint32_t *data_len)
{
    uint8_t req[NSM_REQUEST_MAX_SIZE], resp[NSM_RESPONSE_MAX_SIZE];
    struct nsm_response r;
    if (!lock || !data_len)
        return ERROR_CODE_INVALID_ARGUMENT;
    size_t n = nsm_req_describe_pcr(req, sizeof(req), index);
    ErrorCode rc = process(fd, req, n, resp, NSM_RESP_DESCRIBE_PCR, &r);
    if (rc != ERROR_CODE_SUCCESS)
        return rc;
    *lock = r.lock;
    return copy_out(r.data, r.data_len, data, data_len);
}

ErrorCode nsm_lock_pcr(int32_t fd, uint16_t index)
{
    uint8_t req[NSM_REQUEST_MAX_SIZE], resp[NSM_RESPONSE_MAX_SIZE];
    struct nsm_response r;
    size_t n = nsm_req_lock_pcr(req, sizeof(req), index);
    return process(fd, req, n, resp, NSM_RESP_LOCK_PCR, &r);
}

ErrorCode nsm_lock_pcrs(int32_t fd, uint16_t range)
{
    uint8_t req[NSM_REQUEST_MAX_SIZE], resp[NSM_RESPONSE_MAX_SIZE];
    struct nsm_response r;
    size_t n = nsm_req_lock_pcrs(req, sizeof(req), range);
    return process(fd, req, n, resp, NSM_RESP_LOCK_PCRS, &r);
}

/* Fills d->locked_pcrs with the distinct indexes of the array, smallest first, as nsm-api's
 * BTreeSet orders them. More than fit: the first 64, and ERROR_CODE_BUFFER_TOO_SMALL. */
static ErrorCode fill_locked(const struct cbor_item *array, NsmDescription *d)
{
    const uint32_t cap = sizeof(d->locked_pcrs) / sizeof(d->locked_pcrs[0]);
    uint32_t n = 0;
    int64_t last = -1;
    for (;;) {
        struct cbor_iter it;
        struct cbor_item e;
        int64_t next = -1;
        cbor_iter_init(array, &it);
        while (cbor_iter_next(&it, &e) == CBOR_OK)
            if ((int64_t)e.val > last && (next < 0 || (int64_t)e.val < next))
                next = (int64_t)e.val;
        if (next < 0)
            break;
        if (n == cap) {
            d->locked_pcrs_len = n;
            return ERROR_CODE_BUFFER_TOO_SMALL;
        }
        d->locked_pcrs[n++] = (uint16_t)next;
        last = next;
    }
    d->locked_pcrs_len = n;
    return ERROR_CODE_SUCCESS;
}

ErrorCode nsm_get_description(int32_t fd, NsmDescription *d)
{
    uint8_t req[NSM_REQUEST_MAX_SIZE], resp[NSM_RESPONSE_MAX_SIZE];
    struct nsm_response r;
    if (!d)
        return ERROR_CODE_INVALID_ARGUMENT;
    size_t n = nsm_req_describe_nsm(req, sizeof(req));
    ErrorCode rc = process(fd, req, n, resp, NSM_RESP_DESCRIBE_NSM, &r);
    if (rc != ERROR_CODE_SUCCESS)
        return rc;
    d->version_major = r.version_major;
    d->version_minor = r.version_minor;
    d->version_patch = r.version_patch;
    d->max_pcrs = r.max_pcrs;
    d->digest = r.digest;
    size_t id_len =
        r.module_id_len < sizeof(d->module_id) - 1 ? r.module_id_len : sizeof(d->module_id) - 1;
    memcpy(d->module_id, r.module_id, id_len);
    d->module_id[id_len] = 0;
    d->module_id_len = (uint32_t)id_len;
    return fill_locked(&r.locked_pcrs, d);
}

ErrorCode nsm_get_attestation_doc(int32_t fd, const uint8_t *user_data, uint32_t user_data_len,
                                  const uint8_t *nonce_data, uint32_t nonce_len,
                                  const uint8_t *pub_key_data, uint32_t pub_key_len,
                                  uint8_t *att_doc_data, uint32_t *att_doc_len)
{
    uint8_t req[NSM_REQUEST_MAX_SIZE], resp[NSM_RESPONSE_MAX_SIZE];
    struct nsm_response r;
    if (!att_doc_len)
        return ERROR_CODE_INVALID_ARGUMENT;
    size_t n = nsm_req_attestation(req, sizeof(req), user_data, user_data_len, nonce_data,
                                   nonce_len, pub_key_data, pub_key_len);
    ErrorCode rc = process(fd, req, n, resp, NSM_RESP_ATTESTATION, &r);
    if (rc != ERROR_CODE_SUCCESS)
        return rc;
    return copy_out(r.data, r.data_len, att_doc_data, att_doc_len);
}

ErrorCode nsm_get_random(int32_t fd, uint8_t *buf, size_t *buf_len)
{
    uint8_t req[NSM_REQUEST_MAX_SIZE], resp[NSM_RESPONSE_MAX_SIZE];
    struct nsm_response r;
    if (fd < 0 || !buf || !buf_len || *buf_len == 0)
        return ERROR_CODE_INVALID_ARGUMENT;
    size_t n = nsm_req_get_random(req, sizeof(req));
    ErrorCode rc = process(fd, req, n, resp, NSM_RESP_GET_RANDOM, &r);
    if (rc != ERROR_CODE_SUCCESS)
        return rc;
    /* as nsm-api: fewer bytes than asked for is still a success */
    if (r.data_len < *buf_len)
        *buf_len = r.data_len;
    memcpy(buf, r.data, *buf_len);
    return ERROR_CODE_SUCCESS;
}
