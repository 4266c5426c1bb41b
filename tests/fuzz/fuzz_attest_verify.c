/* fuzz_attest_verify.c: the attestation verifier (src/attest/verify.c) on arbitrary document
 * bytes with a fixed pinned CA: no out-of-bounds access or leak, and nothing random is accepted.
 * The first run also checks that a real document from the same CA verifies, so a verifier that
 * rejects everything is caught; seed the corpus with such documents (tests/tools/mkdoc) to let
 * the fuzzer walk through the chain and signature checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/ca.h"
#include "attest/nsm.h"
#include "attest/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static struct attest_policy g_pol;
static struct attest_result g_res;

static void init_once(void)
{
    static int done;
    static uint8_t resp[NSM_RESPONSE_MAX_SIZE];
    static const uint8_t req[] = "\xa1\x6b"
                                 "Attestation"
                                 "\xa0";
    struct attest_signer signer;
    struct nsm nsm;
    uint8_t pcr[48], *der;
    size_t der_len;
    char why[256];
    if (done)
        return;
    struct attest_ca *ca = ca_generate("fuzz.alcove-enclaves", time(NULL), why, sizeof(why));
    CHECK(ca != NULL && ca_cert_der(ca, &der, &der_len) == 0);
    CHECK(ca_issue_signer(ca, "i-fuzz-enc1", time(NULL), &signer, why, sizeof(why)) == 0);
    memset(pcr, 0x5a, sizeof(pcr));
    CHECK(nsm_init(&nsm, pcr, pcr, pcr, NULL, false, "i-fuzz-enc1", &signer) == 0);
    size_t n = nsm_handle(&nsm, req, sizeof(req) - 1, resp, sizeof(resp));
    CHECK(n > 26);
    g_pol.ca_der = der; /* kept for the process's life */
    g_pol.ca_der_len = der_len;
    CHECK(attest_verify(resp + 26, n - 26, &g_pol, &g_res, why, sizeof(why)) == ATTEST_OK);
    attest_signer_free(&signer);
    ca_free(ca);
    done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ATTEST_ERR_SIZE];
    init_once();
    uint8_t *doc = malloc(size ? size : 1);
    CHECK(doc != NULL);
    memcpy(doc, data, size);
    enum attest_status st = attest_verify(doc, size, &g_pol, &g_res, err, sizeof(err));
    CHECK(st == ATTEST_OK || err[0] != '\0');
    free(doc);
    return 0;
}
