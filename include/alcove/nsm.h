/* alcove/nsm.h: libnsm, the enclave-side client of the Nitro Secure Module (/dev/nsm). Its
 * functions, types and error codes have the names, values and C signatures of the C API of
 * aws-nitro-enclaves-nsm-api (nsm-lib), so programs written against that library build against
 * this one unchanged; docs/libnsm.md lists the few differences. Every call encodes one CBOR
 * request, sends it with the NSM_IOCTL_RAW ioctl and decodes the device's CBOR response. The
 * library is static (libnsm-musl.a, libnsm-glibc.a), allocates nothing and keeps no state
 * besides the file descriptor the caller holds. */
#ifndef ALCOVE_NSM_H
#define ALCOVE_NSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result of every operation. The values are those of nsm-api's ErrorCode. */
typedef enum ErrorCode {
    ERROR_CODE_SUCCESS = 0,           /* no error */
    ERROR_CODE_INVALID_ARGUMENT = 1,  /* an argument is invalid */
    ERROR_CODE_INVALID_INDEX = 2,     /* PCR index out of bounds */
    ERROR_CODE_INVALID_RESPONSE = 3,  /* the response does not answer the request */
    ERROR_CODE_READ_ONLY_INDEX = 4,   /* the PCR is locked */
    ERROR_CODE_INVALID_OPERATION = 5, /* the NSM cannot do this request */
    ERROR_CODE_BUFFER_TOO_SMALL = 6,  /* done, but the output buffer was too small: truncated */
    ERROR_CODE_INPUT_TOO_LARGE = 7,   /* the request is over NSM_REQUEST_MAX_SIZE */
    ERROR_CODE_INTERNAL_ERROR = 8,    /* transport failure or an undecodable response */
} ErrorCode;

/* The hash of the PCR bank. */
typedef enum Digest {
    DIGEST_SHA256 = 0,
    DIGEST_SHA384 = 1,
    DIGEST_SHA512 = 2,
} Digest;

/* What DescribeNSM returns. module_id is NUL-terminated and holds at most 99 bytes;
 * locked_pcrs lists the locked PCR indexes in increasing order. */
typedef struct NsmDescription {
    uint16_t version_major;
    uint16_t version_minor;
    uint16_t version_patch;
    uint8_t module_id[100];
    uint32_t module_id_len;
    uint16_t max_pcrs;
    uint16_t locked_pcrs[64];
    uint32_t locked_pcrs_len;
    Digest digest;
} NsmDescription;

/* The kernel interface (Linux include/uapi/linux/nsm.h, the same as nsm-api's driver). */
#define NSM_DEVICE_PATH       "/dev/nsm"
#define NSM_REQUEST_MAX_SIZE  0x1000
#define NSM_RESPONSE_MAX_SIZE 0x3000
/* A PCR holds one SHA-384 digest. */
#define NSM_PCR_LEN 48

/* Opens /dev/nsm read-write. Returns the descriptor, or -1 (errno set). */
int32_t nsm_lib_init(void);
/* Closes a descriptor from nsm_lib_init(). */
void nsm_lib_exit(int32_t fd);

/* PCR[index] := SHA-384(PCR[index] || data). The new value goes to pcr_data, whose capacity is
 * *pcr_data_len on entry; *pcr_data_len is the length written on return. data must not be NULL
 * (ERROR_CODE_INVALID_ARGUMENT). */
ErrorCode nsm_extend_pcr(int32_t fd, uint16_t index, const uint8_t *data, uint32_t data_len,
                         uint8_t *pcr_data, uint32_t *pcr_data_len);

/* Reads PCR[index]: whether it is locked, and its value (capacity and length as above). */
ErrorCode nsm_describe_pcr(int32_t fd, uint16_t index, bool *lock, uint8_t *data,
                           uint32_t *data_len);

/* Locks PCR[index] against extension. */
ErrorCode nsm_lock_pcr(int32_t fd, uint16_t index);

/* Locks PCRs [0, range). */
ErrorCode nsm_lock_pcrs(int32_t fd, uint16_t range);

/* Describes the NSM: version, module id, PCR count, locked PCRs, digest. */
ErrorCode nsm_get_description(int32_t fd, NsmDescription *nsm_description);

/* Gets a signed attestation document (COSE_Sign1) that carries the optional user data, nonce and
 * public key; a NULL pointer leaves that field out (null in the request). The document goes to
 * att_doc_data, capacity *att_doc_len on entry, length written on return. */
ErrorCode nsm_get_attestation_doc(int32_t fd, const uint8_t *user_data, uint32_t user_data_len,
                                  const uint8_t *nonce_data, uint32_t nonce_len,
                                  const uint8_t *pub_key_data, uint32_t pub_key_len,
                                  uint8_t *att_doc_data, uint32_t *att_doc_len);

/* Fills buf with up to *buf_len bytes of entropy from the NSM (it returns at most 256 a call);
 * *buf_len is the number written on return. fd < 0, buf NULL or *buf_len 0 give
 * ERROR_CODE_INVALID_ARGUMENT. */
ErrorCode nsm_get_random(int32_t fd, uint8_t *buf, size_t *buf_len);

#ifdef __cplusplus
}
#endif

#endif
