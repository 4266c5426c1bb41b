/* nsm.h: the host side of the Nitro Secure Module (specs/nsm-runtime.md section 1): 32 PCRs of
 * 48 bytes, the module id, and the attestation signer, and the handler that turns one request
 * (CBOR bytes from the guest: untrusted) into one response (CBOR bytes for the guest). The
 * virtio-nsm device model owns a struct nsm per enclave and calls nsm_handle for each request
 * it pops. Not thread-safe: the caller serializes requests (the device has one queue).
 *
 * Boot state (spec 1.5, 4.3): PCR0, 1, 2 (and 8 for a signed image) hold the image's values as
 * nitro-cli reports them (src/image/measure.c); the others are zero; PCRs 0-15 are locked,
 * 16-31 are extendable and lockable. In debug mode the image PCRs (0, 1, 2 and 8) read as zeros,
 * so a debug enclave never matches a production policy.
 */
#ifndef ALCOVE_ATTEST_NSM_H
#define ALCOVE_ATTEST_NSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/document.h"

#define NSM_MAX_PCRS          32
#define NSM_PCR_SIZE          48
#define NSM_LOCKED_AT_BOOT    16 /* PCRs 0..15 */
#define NSM_REQUEST_MAX_SIZE  0x1000
#define NSM_RESPONSE_MAX_SIZE 0x3000
#define NSM_RANDOM_SIZE       256 /* bytes per GetRandom, as QEMU */
#define NSM_MODULE_ID_MAX     64  /* fits a certificate's CN */
#define NSM_VERSION_MAJOR     1
#define NSM_VERSION_MINOR     0
#define NSM_VERSION_PATCH     0

/* nsm-api's ErrorCode, in its order (the C ABI's values). */
enum nsm_error {
    NSM_SUCCESS = 0,
    NSM_INVALID_ARGUMENT,
    NSM_INVALID_INDEX,
    NSM_INVALID_RESPONSE,
    NSM_READ_ONLY_INDEX,
    NSM_INVALID_OPERATION,
    NSM_BUFFER_TOO_SMALL,
    NSM_INPUT_TOO_LARGE,
    NSM_INTERNAL_ERROR,
};

struct nsm_pcr {
    bool locked;
    uint8_t value[NSM_PCR_SIZE];
};

struct nsm {
    struct nsm_pcr pcrs[NSM_MAX_PCRS];
    char module_id[NSM_MODULE_ID_MAX + 1];
    bool debug;
    const struct attest_signer *signer; /* not owned; NULL: Attestation answers InternalError */
    /* The clock of document timestamps (milliseconds since the epoch); NULL: CLOCK_REALTIME. */
    uint64_t (*clock_ms)(void *ctx);
    void *clock_ctx;
    /* Called before each Attestation is signed, so that the owner can make or renew the signer
     * (nsm_set_signer) only when one is needed; NULL: the signer is what nsm_set_signer gave. */
    void (*refresh_signer)(void *ctx);
    void *refresh_ctx;
};

/* Sets up the boot state. pcr0..pcr2 are the image's PCR values (final, as nitro-cli prints
 * them); pcr8 is NULL for an unsigned image. module_id: 1..NSM_MODULE_ID_MAX printable ASCII
 * characters. The signer (may be NULL) must outlive its use. 0, or -1 (bad module_id). */
int nsm_init(struct nsm *nsm, const uint8_t pcr0[NSM_PCR_SIZE], const uint8_t pcr1[NSM_PCR_SIZE],
             const uint8_t pcr2[NSM_PCR_SIZE], const uint8_t *pcr8, bool debug,
             const char *module_id, const struct attest_signer *signer);

/* Makes OpenSSL and glibc ready for what the answers use (OpenSSL's configuration, the random
 * generator, SHA-384, the time zone for a leaf's validity): their first use reads files, which
 * the monitor's vCPU threads, where requests are answered, may not open
 * (monitor/sandbox_class.c). The monitor's main thread calls it at set-up. */
void nsm_crypto_prepare(void);

/* Replaces the signer (a fresh leaf before the old one expires). */
void nsm_set_signer(struct nsm *nsm, const struct attest_signer *signer);

/* Handles one request of req_len bytes and writes the response into resp. Returns the response's
 * length (> 0), or 0 when resp_cap cannot hold even an error response. resp_cap should be
 * NSM_RESPONSE_MAX_SIZE; every response fits there. */
size_t nsm_handle(struct nsm *nsm, const uint8_t *req, size_t req_len, uint8_t *resp,
                  size_t resp_cap);

/* The wire name of an error ("InvalidIndex"), or NULL. */
const char *nsm_error_name(enum nsm_error err);

#endif
