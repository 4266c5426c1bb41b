/* nsm_msg.h: the NSM wire messages, apart from any transport. Request encoders write the CBOR
 * shapes of nsm-api's Request enum (externally tagged: a text string for DescribeNSM and
 * GetRandom, {"Variant": {fields}} otherwise); the response decoder turns the device's CBOR into
 * a struct nsm_response whose pointers point into the response bytes. Kept separate from the
 * ioctl so the host unit tests can check both directions byte for byte. */
#ifndef ALCOVE_LIBNSM_MSG_H
#define ALCOVE_LIBNSM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alcove/nsm.h"
#include "nsm_cbor.h"

/* Each encoder writes at most cap bytes to buf and returns the length the whole request needs:
 * a return above cap means it did not fit (and above NSM_REQUEST_MAX_SIZE, that it is too
 * large to send). */
size_t nsm_req_describe_pcr(uint8_t *buf, size_t cap, uint16_t index);
size_t nsm_req_extend_pcr(uint8_t *buf, size_t cap, uint16_t index, const uint8_t *data,
                          size_t data_len);
size_t nsm_req_lock_pcr(uint8_t *buf, size_t cap, uint16_t index);
size_t nsm_req_lock_pcrs(uint8_t *buf, size_t cap, uint16_t range);
size_t nsm_req_describe_nsm(uint8_t *buf, size_t cap);
/* A NULL field is sent as null (nsm-api's None). */
size_t nsm_req_attestation(uint8_t *buf, size_t cap, const uint8_t *user_data, size_t user_data_len,
                           const uint8_t *nonce, size_t nonce_len, const uint8_t *public_key,
                           size_t public_key_len);
size_t nsm_req_get_random(uint8_t *buf, size_t cap);

enum nsm_resp_kind {
    NSM_RESP_DESCRIBE_PCR,
    NSM_RESP_EXTEND_PCR,
    NSM_RESP_LOCK_PCR,
    NSM_RESP_LOCK_PCRS,
    NSM_RESP_DESCRIBE_NSM,
    NSM_RESP_ATTESTATION,
    NSM_RESP_GET_RANDOM,
    NSM_RESP_ERROR,
};

struct nsm_response {
    enum nsm_resp_kind kind;
    ErrorCode error; /* NSM_RESP_ERROR: the code the device named (may be ERROR_CODE_SUCCESS) */
    bool lock;       /* NSM_RESP_DESCRIBE_PCR */
    /* DescribePCR and ExtendPCR: data; Attestation: document; GetRandom: random */
    const uint8_t *data;
    size_t data_len;
    /* NSM_RESP_DESCRIBE_NSM */
    uint16_t version_major, version_minor, version_patch, max_pcrs;
    const uint8_t *module_id; /* UTF-8, not NUL-terminated */
    size_t module_id_len;
    struct cbor_item locked_pcrs; /* an array of uints, each checked to be at most 0xffff */
    Digest digest;
};

/* Decodes one response (exactly len bytes). ERROR_CODE_SUCCESS, or ERROR_CODE_INTERNAL_ERROR
 * when the bytes are not a well-formed response of a known variant with all its fields. */
ErrorCode nsm_decode_response(const uint8_t *buf, size_t len, struct nsm_response *out);

/* The code for an error name on the wire ("InvalidIndex" ...); -1 if unknown. */
int nsm_error_from_name(const uint8_t *name, size_t len);
/* The wire name of a code ("Success" ... "InternalError"), or NULL. */
const char *nsm_error_name(ErrorCode code);

#endif
