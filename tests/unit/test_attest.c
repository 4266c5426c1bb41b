/* test_attest.c: attestation end to end on the host: documents made by the NSM handler
 * (src/attest/nsm.c) from Attestation requests, checked by the verifier (src/attest/verify.c)
 * against the CA (src/attest/ca.c). One valid document, then what must fail: a flipped bit
 * anywhere, another CA, a wrong PCR, a stale or future timestamp, a wrong or missing nonce, a
 * debug-mode document, an expired leaf; and the NSM's own refusals (ReadOnlyIndex on PCR0,
 * InputTooLarge, InvalidOperation on a truncated request). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "attest/ca.h"
#include "attest/nsm.h"
#include "attest/verify.h"

static struct attest_ca *g_ca, *g_other_ca;
static struct attest_signer g_signer, g_other_signer;
static uint8_t *g_ca_der, *g_other_der;
static size_t g_ca_der_len, g_other_der_len;
static uint8_t g_pcr[3][48];
static int64_t g_clock_offset_ms;
static char g_err[ATTEST_ERR_SIZE];
static struct attest_result g_res;

static uint64_t test_clock(void *ctx)
{
    (void)ctx;
    return (uint64_t)((int64_t)time(NULL) * 1000 + g_clock_offset_ms);
}

static int setup_all(void **state)
{
    char why[256];
    time_t now = time(NULL);
    g_ca = ca_generate("test.alcove-enclaves", now, why, sizeof(why));
    g_other_ca = ca_generate("other.alcove-enclaves", now, why, sizeof(why));
    if (!g_ca || !g_other_ca ||
        ca_issue_signer(g_ca, "i-test-enc1", now, &g_signer, why, sizeof(why)) ||
        ca_issue_signer(g_other_ca, "i-test-enc1", now, &g_other_signer, why, sizeof(why)) ||
        ca_cert_der(g_ca, &g_ca_der, &g_ca_der_len) ||
        ca_cert_der(g_other_ca, &g_other_der, &g_other_der_len))
        return -1;
    for (int i = 0; i < 3; i++)
        memset(g_pcr[i], 0x31 + i, 48);
    return 0;
}

static int teardown_all(void **state)
{
    attest_signer_free(&g_signer);
    attest_signer_free(&g_other_signer);
    ca_free(g_ca);
    ca_free(g_other_ca);
    free(g_ca_der);
    free(g_other_der);
    return 0;
}

static void init_nsm(struct nsm *nsm, bool debug, const struct attest_signer *signer)
{
    assert_int_equal(
        nsm_init(nsm, g_pcr[0], g_pcr[1], g_pcr[2], NULL, debug, "i-test-enc1", signer), 0);
    nsm->clock_ms = test_clock;
}

/* Sends {"Attestation": {"user_data": "hello", "nonce": nonce}} and returns the document. */
static uint8_t *attest(struct nsm *nsm, const char *nonce, size_t *len)
{
    static uint8_t resp[NSM_RESPONSE_MAX_SIZE];
    static const char head[] = "\xa1\x6b"
                               "Attestation"
                               "\xa3\x69"
                               "user_data"
                               "\x45"
                               "hello"
                               "\x6a"
                               "public_key"
                               "\xf6\x65"
                               "nonce";
    uint8_t req[128];
    size_t k = sizeof(head) - 1;
    memcpy(req, head, k);
    if (nonce) {
        req[k++] = (uint8_t)(0x40 + strlen(nonce));
        memcpy(req + k, nonce, strlen(nonce));
        k += strlen(nonce);
    } else {
        req[k++] = 0xf6;
    }
    size_t n = nsm_handle(nsm, req, k, resp, sizeof(resp));
    /* a1 6b "Attestation" a1 68 "document" 59 hi lo */
    assert_true(n > 27);
    assert_memory_equal(resp,
                        "\xa1\x6b"
                        "Attestation"
                        "\xa1\x68"
                        "document"
                        "\x59",
                        24);
    *len = (size_t)resp[24] << 8 | resp[25];
    assert_int_equal(n, 26 + *len);
    uint8_t *doc = malloc(*len);
    memcpy(doc, resp + 26, *len);
    return doc;
}

static void policy(struct attest_policy *pol)
{
    memset(pol, 0, sizeof(*pol));
    pol->ca_der = g_ca_der;
    pol->ca_der_len = g_ca_der_len;
}

static enum attest_status verify(const uint8_t *doc, size_t len, const struct attest_policy *pol)
{
    return attest_verify(doc, len, pol, &g_res, g_err, sizeof(g_err));
}

static void t_valid(void **state)
{
    struct nsm nsm;
    struct attest_policy pol;
    size_t len;
    g_clock_offset_ms = 0;
    init_nsm(&nsm, false, &g_signer);
    uint8_t *doc = attest(&nsm, "n0nce", &len);
    policy(&pol);
    for (int i = 0; i < 3; i++) {
        memcpy(pol.pcr[i], g_pcr[i], 48);
        pol.pcr_len[i] = 48;
        pol.pcr_mask |= 1u << i;
    }
    pol.check_nonce = true;
    pol.nonce = (const uint8_t *)"n0nce";
    pol.nonce_len = 5;
    pol.max_age_s = 60;
    assert_int_equal(verify(doc, len, &pol), ATTEST_OK);
    assert_string_equal(g_res.module_id, "i-test-enc1");
    assert_string_equal(g_res.digest, "SHA384");
    assert_int_equal(g_res.pcr_mask, 0xffff);
    assert_memory_equal(g_res.pcr[1], g_pcr[1], 48);
    assert_true(g_res.user_data.present);
    assert_int_equal(g_res.user_data.len, 5);
    assert_memory_equal(g_res.user_data.data, "hello", 5);
    assert_false(g_res.public_key.present);
    assert_true(g_res.nonce.present);
    assert_false(g_res.debug);
    assert_int_equal(g_res.cabundle_n, 1);
    assert_non_null(strstr(g_res.cert_subject, "CN=i-test-enc1"));
    time_t now = time(NULL);
    assert_true(g_res.timestamp_ms / 1000 <= (uint64_t)now &&
                g_res.timestamp_ms / 1000 + 5 >= (uint64_t)now);

    /* the layout a Nitro verifier expects: untagged, {1:-35}, {}, 9 keys in order, 0x1b time */
    assert_memory_equal(doc, "\x84\x44\xa1\x01\x38\x22\xa0\x59", 8);
    const uint8_t *payload = doc + 10;
    assert_memory_equal(payload,
                        "\xa9\x69"
                        "module_id"
                        "\x6b"
                        "i-test-enc1"
                        "\x66"
                        "digest"
                        "\x66"
                        "SHA384"
                        "\x69"
                        "timestamp"
                        "\x1b",
                        50);
    assert_memory_equal(doc + len - 98, "\x58\x60", 2);

    /* the same document with COSE tag 18 is accepted too */
    uint8_t *tagged = malloc(len + 1);
    tagged[0] = 0xd2;
    memcpy(tagged + 1, doc, len);
    assert_int_equal(verify(tagged, len + 1, &pol), ATTEST_OK);
    tagged[0] = 0xd1;
    assert_int_equal(verify(tagged, len + 1, &pol), ATTEST_MALFORMED);
    free(tagged);
    free(doc);
}

static void t_bit_flips(void **state)
{
    struct nsm nsm;
    struct attest_policy pol;
    size_t len;
    g_clock_offset_ms = 0;
    init_nsm(&nsm, false, &g_signer);
    uint8_t *doc = attest(&nsm, NULL, &len);
    policy(&pol);
    assert_int_equal(verify(doc, len, &pol), ATTEST_OK);
    /* a sample of bit positions across the whole document: every byte's bits in turn */
    unsigned tried = 0;
    for (size_t bit = 0; bit < len * 8; bit += 5) {
        doc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        enum attest_status st = verify(doc, len, &pol);
        if (st == ATTEST_OK)
            fail_msg("flipping bit %zu (byte %zu) still verifies", bit, bit / 8);
        doc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        tried++;
    }
    assert_true(tried > 1000);
    /* truncations */
    for (size_t n = 0; n < len; n += 37)
        assert_int_not_equal(verify(doc, n, &pol), ATTEST_OK);
    assert_int_equal(verify(doc, len, &pol), ATTEST_OK);
    free(doc);
}

static void t_other_ca(void **state)
{
    struct nsm nsm;
    struct attest_policy pol;
    size_t len;
    g_clock_offset_ms = 0;
    init_nsm(&nsm, false, &g_other_signer);
    uint8_t *doc = attest(&nsm, NULL, &len);
    policy(&pol);
    assert_int_equal(verify(doc, len, &pol), ATTEST_CHAIN);
    assert_non_null(strstr(g_err, "not the pinned CA"));
    free(doc);

    /* a leaf of the other CA that claims our root in its cabundle */
    struct attest_signer forged = g_other_signer;
    forged.cabundle[0] = g_ca_der;
    forged.cabundle_len[0] = g_ca_der_len;
    init_nsm(&nsm, false, &forged);
    doc = attest(&nsm, NULL, &len);
    assert_int_equal(verify(doc, len, &pol), ATTEST_CHAIN);
    assert_non_null(strstr(g_err, "certificate chain: "));
    free(doc);

    /* no pinned CA at all */
    pol.ca_der = NULL;
    init_nsm(&nsm, false, &g_signer);
    doc = attest(&nsm, NULL, &len);
    assert_int_equal(verify(doc, len, &pol), ATTEST_CHAIN);
    free(doc);
}

static void t_wrong_pcr(void **state)
{
    struct nsm nsm;
    struct attest_policy pol;
    size_t len;
    g_clock_offset_ms = 0;
    init_nsm(&nsm, false, &g_signer);
    uint8_t *doc = attest(&nsm, NULL, &len);
    policy(&pol);
    memset(pol.pcr[2], 0x99, 48);
    pol.pcr_len[2] = 48;
    pol.pcr_mask = 1u << 2;
    assert_int_equal(verify(doc, len, &pol), ATTEST_POLICY);
    assert_non_null(strstr(g_err, "PCR2 is 333333"));
    assert_non_null(strstr(g_err, "expected 999999"));
    /* a PCR the document does not have */
    pol.pcr_mask = 1u << 20;
    pol.pcr_len[20] = 48;
    assert_int_equal(verify(doc, len, &pol), ATTEST_POLICY);
    assert_string_equal(g_err, "PCR20 is not in the document");
    free(doc);
}

static void t_extended_pcr_in_document(void **state)
{
    static uint8_t resp[NSM_RESPONSE_MAX_SIZE];
    struct nsm nsm;
    struct attest_policy pol;
    size_t len;
    g_clock_offset_ms = 0;
    init_nsm(&nsm, false, &g_signer);
    /* ExtendPCR on PCR0 is refused: it is locked */
    static const char ext0[] = "\xa1\x69"
                               "ExtendPCR"
                               "\xa2\x65"
                               "index"
                               "\x00\x64"
                               "data"
                               "\x41"
                               "x";
    static const char ext20[] = "\xa1\x69"
                                "ExtendPCR"
                                "\xa2\x65"
                                "index"
                                "\x14\x64"
                                "data"
                                "\x41"
                                "x";
    size_t n = nsm_handle(&nsm, (const uint8_t *)ext0, sizeof(ext0) - 1, resp, sizeof(resp));
    assert_int_equal(n, 21);
    assert_memory_equal(resp,
                        "\xa1\x65"
                        "Error"
                        "\x6d"
                        "ReadOnlyIndex",
                        21);
    /* PCR 20 extended and locked goes into the document */
    n = nsm_handle(&nsm, (const uint8_t *)ext20, sizeof(ext20) - 1, resp, sizeof(resp));
    assert_memory_equal(resp,
                        "\xa1\x69"
                        "ExtendPCR",
                        11);
    uint8_t value[48];
    memcpy(value, resp + 19, 48);
    n = nsm_handle(&nsm,
                   (const uint8_t *)"\xa1\x67"
                                    "LockPCR"
                                    "\xa1\x65"
                                    "index"
                                    "\x14",
                   17, resp, sizeof(resp));
    assert_int_equal(n, 8);
    uint8_t *doc = attest(&nsm, NULL, &len);
    policy(&pol);
    memcpy(pol.pcr[20], value, 48);
    pol.pcr_len[20] = 48;
    pol.pcr_mask = 1u << 20;
    assert_int_equal(verify(doc, len, &pol), ATTEST_OK);
    assert_int_equal(g_res.pcr_mask, 0x10ffff);
    free(doc);
}

static void t_stale_and_future(void **state)
{
    struct nsm nsm;
    struct attest_policy pol;
    size_t len;
    init_nsm(&nsm, false, &g_signer);
    policy(&pol);
    g_clock_offset_ms = -600 * 1000; /* made 10 minutes ago */
    uint8_t *doc = attest(&nsm, NULL, &len);
    g_clock_offset_ms = 0;
    assert_int_equal(verify(doc, len, &pol), ATTEST_CHAIN); /* before the leaf's notBefore */
    assert_non_null(strstr(g_err, "outside the signing certificate's validity"));
    free(doc);

    /* a leaf issued 2 hours ago, a document from 1 hour ago */
    struct attest_signer old;
    char why[256];
    assert_int_equal(
        ca_issue_signer(g_ca, "i-test-enc1", time(NULL) - 7200, &old, why, sizeof(why)), 0);
    init_nsm(&nsm, false, &old);
    g_clock_offset_ms = -3600 * 1000;
    doc = attest(&nsm, NULL, &len);
    g_clock_offset_ms = 0;
    assert_int_equal(verify(doc, len, &pol), ATTEST_OK);
    pol.max_age_s = 300;
    assert_int_equal(verify(doc, len, &pol), ATTEST_POLICY);
    assert_non_null(strstr(g_err, "more than the maximum age of 300 s"));
    /* checked 3 hours later, the leaf has expired */
    pol.max_age_s = 0;
    pol.now = time(NULL) + 3 * 3600;
    assert_int_equal(verify(doc, len, &pol), ATTEST_CHAIN);
    assert_non_null(strstr(g_err, "certificate has expired"));
    free(doc);
    attest_signer_free(&old);

    /* a timestamp 10 minutes in the future */
    pol.now = 0;
    init_nsm(&nsm, false, &g_signer);
    g_clock_offset_ms = 600 * 1000;
    doc = attest(&nsm, NULL, &len);
    g_clock_offset_ms = 0;
    assert_int_equal(verify(doc, len, &pol), ATTEST_POLICY);
    assert_non_null(strstr(g_err, "in the future"));
    free(doc);
}

static void t_nonce(void **state)
{
    struct nsm nsm;
    struct attest_policy pol;
    size_t len;
    g_clock_offset_ms = 0;
    init_nsm(&nsm, false, &g_signer);
    uint8_t *doc = attest(&nsm, "abc", &len);
    policy(&pol);
    pol.check_nonce = true;
    pol.nonce = (const uint8_t *)"abd";
    pol.nonce_len = 3;
    assert_int_equal(verify(doc, len, &pol), ATTEST_POLICY);
    assert_string_equal(g_err, "nonce mismatch: the document has 616263, expected 616264");
    free(doc);
    doc = attest(&nsm, NULL, &len);
    assert_int_equal(verify(doc, len, &pol), ATTEST_POLICY);
    assert_string_equal(g_err, "nonce mismatch: the document has no nonce");
    free(doc);
}

static void t_debug(void **state)
{
    struct nsm nsm;
    struct attest_policy pol;
    size_t len;
    g_clock_offset_ms = 0;
    init_nsm(&nsm, true, &g_signer);
    uint8_t *doc = attest(&nsm, NULL, &len);
    policy(&pol);
    assert_int_equal(verify(doc, len, &pol), ATTEST_POLICY);
    assert_non_null(strstr(g_err, "debug-mode enclave"));
    assert_true(g_res.debug);
    pol.accept_debug = true;
    assert_int_equal(verify(doc, len, &pol), ATTEST_OK);
    assert_true(g_res.debug);
    /* and a debug document does not match the production PCR0 */
    memcpy(pol.pcr[0], g_pcr[0], 48);
    pol.pcr_len[0] = 48;
    pol.pcr_mask = 1;
    assert_int_equal(verify(doc, len, &pol), ATTEST_POLICY);
    free(doc);
}

static void t_nsm_refusals(void **state)
{
    static uint8_t big[NSM_REQUEST_MAX_SIZE + 1], resp[64];
    struct nsm nsm;
    init_nsm(&nsm, false, &g_signer);
    memcpy(big,
           "\xa1\x6b"
           "Attestation"
           "\xa0",
           15);
    size_t n = nsm_handle(&nsm, big, sizeof(big), resp, sizeof(resp));
    assert_int_equal(n, 21);
    assert_memory_equal(resp,
                        "\xa1\x65"
                        "Error"
                        "\x6d"
                        "InputTooLarge",
                        21);
    /* truncated Attestation requests: every proper prefix */
    static const uint8_t req[] = "\xa1\x6b"
                                 "Attestation"
                                 "\xa1\x65"
                                 "nonce"
                                 "\x43"
                                 "abc";
    for (size_t k = 0; k < sizeof(req) - 1; k++) {
        n = nsm_handle(&nsm, req, k, resp, sizeof(resp));
        assert_int_equal(n, 24);
        assert_memory_equal(resp,
                            "\xa1\x65"
                            "Error"
                            "\x70"
                            "InvalidOperation",
                            24);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_valid),
        cmocka_unit_test(t_bit_flips),
        cmocka_unit_test(t_other_ca),
        cmocka_unit_test(t_wrong_pcr),
        cmocka_unit_test(t_extended_pcr_in_document),
        cmocka_unit_test(t_stale_and_future),
        cmocka_unit_test(t_nonce),
        cmocka_unit_test(t_debug),
        cmocka_unit_test(t_nsm_refusals),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
