/* fuzz_nsm_request.c: the NSM request handler (src/attest/nsm.c) on arbitrary request bytes, as a
 * hostile enclave would send them: no out-of-bounds access, every answer is a well-formed
 * response that fits the 0x3000 buffer, and locked PCRs never change. One NSM (with a real
 * signer, so Attestation runs the document builder) lives across inputs, so sequences of
 * extends and locks are explored too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/ca.h"
#include "attest/nsm.h"
#include "common/cbor_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static struct nsm g_nsm;
static struct attest_signer g_signer;
static uint8_t g_resp[NSM_RESPONSE_MAX_SIZE];

static void init_once(void)
{
    static int done;
    uint8_t pcr[48];
    char why[256];
    if (done)
        return;
    struct attest_ca *ca = ca_generate("fuzz.alcove-enclaves", time(NULL), why, sizeof(why));
    CHECK(ca != NULL);
    CHECK(ca_issue_signer(ca, "i-fuzz-enc1", time(NULL), &g_signer, why, sizeof(why)) == 0);
    ca_free(ca);
    memset(pcr, 0x5a, sizeof(pcr));
    CHECK(nsm_init(&g_nsm, pcr, pcr, pcr, NULL, false, "i-fuzz-enc1", &g_signer) == 0);
    done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nsm_pcr before[NSM_LOCKED_AT_BOOT];
    init_once();
    memcpy(before, g_nsm.pcrs, sizeof(before));
    /* a copy of exactly size bytes, so that ASan sees any read past the end */
    uint8_t *req = malloc(size ? size : 1);
    CHECK(req != NULL);
    memcpy(req, data, size);
    size_t n = nsm_handle(&g_nsm, req, size, g_resp, sizeof(g_resp));
    free(req);
    CHECK(n > 0 && n <= sizeof(g_resp));
    CHECK(memcmp(before, g_nsm.pcrs, sizeof(before)) == 0);
    /* the response is one CBOR item: a text (LockPCR/LockPCRs) or a map of one entry */
    struct cb_reader r = {g_resp, n};
    struct cb_item it;
    CHECK(cb_next(&r, &it) == 0);
    CHECK(it.kind == CB_TEXT || (it.kind == CB_MAP && it.val == 1));
    r.p = g_resp;
    r.left = n;
    CHECK(cb_skip(&r, 1) == 0 && r.left == 0);
    /* start over now and then, so that unlocked PCRs exist again */
    if (size > 0 && data[0] == 0xff) {
        uint8_t pcr[48];
        memset(pcr, 0x5a, sizeof(pcr));
        nsm_init(&g_nsm, pcr, pcr, pcr, NULL, false, "i-fuzz-enc1", &g_signer);
    }
    return 0;
}
