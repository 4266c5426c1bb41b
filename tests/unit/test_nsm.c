/* test_nsm.c: the NSM request handler (src/attest/nsm.c) on hand-built CBOR requests: every
 * request, the exact response bytes where the spec fixes them (specs/nsm-runtime.md 1.2-1.5),
 * decoding robustness (key order, integer widths, nulls, text for bytes, unknown keys) and
 * every error case: InputTooLarge, InvalidOperation, InvalidIndex, ReadOnlyIndex, InternalError. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "attest/ca.h"
#include "attest/nsm.h"

#define REQ(s) (const uint8_t *)(s), sizeof(s) - 1

static struct attest_ca *g_ca;
static struct attest_signer g_signer;
static uint8_t g_pcr0[48], g_pcr1[48], g_pcr2[48], g_pcr8[48];
static uint8_t g_resp[NSM_RESPONSE_MAX_SIZE];

static int setup_all(void **state)
{
    char why[256];
    g_ca = ca_generate("test.alcove-enclaves", time(NULL), why, sizeof(why));
    if (g_ca == NULL ||
        ca_issue_signer(g_ca, "i-test-enc1", time(NULL), &g_signer, why, sizeof(why)))
        return -1;
    memset(g_pcr0, 0xa0, 48);
    memset(g_pcr1, 0xa1, 48);
    memset(g_pcr2, 0xa2, 48);
    memset(g_pcr8, 0xa8, 48);
    return 0;
}

static int teardown_all(void **state)
{
    attest_signer_free(&g_signer);
    ca_free(g_ca);
    return 0;
}

static int setup(void **state)
{
    static struct nsm nsm;
    if (nsm_init(&nsm, g_pcr0, g_pcr1, g_pcr2, g_pcr8, false, "i-test-enc1", &g_signer))
        return -1;
    *state = &nsm;
    return 0;
}

static size_t call(void **state, const uint8_t *req, size_t len)
{
    memset(g_resp, 0xee, sizeof(g_resp));
    return nsm_handle(*state, req, len, g_resp, sizeof(g_resp));
}

static void expect_bytes(size_t n, const void *want, size_t want_len)
{
    assert_int_equal(n, want_len);
    assert_memory_equal(g_resp, want, want_len);
}

/* {"Error": name} */
static void expect_error(size_t n, const char *name)
{
    uint8_t want[64] = {0xa1, 0x65, 'E', 'r', 'r', 'o', 'r', (uint8_t)(0x60 + strlen(name))};
    memcpy(want + 8, name, strlen(name));
    expect_bytes(n, want, 8 + strlen(name));
}

/* {"DescribePCR": {"lock": lock, "data": value}} */
static void expect_describe_pcr(size_t n, bool lock, const uint8_t value[48])
{
    uint8_t want[128];
    size_t k = 0;
    memcpy(want,
           "\xa1\x6b"
           "DescribePCR"
           "\xa2\x64"
           "lock",
           19);
    k = 19;
    want[k++] = lock ? 0xf5 : 0xf4;
    memcpy(want + k,
           "\x64"
           "data"
           "\x58\x30",
           7);
    k += 7;
    memcpy(want + k, value, 48);
    expect_bytes(n, want, k + 48);
}

static void sha384_extend(uint8_t pcr[48], const void *data, size_t len)
{
    uint8_t buf[48 + 64];
    unsigned int n;
    memcpy(buf, pcr, 48);
    memcpy(buf + 48, data, len);
    assert_int_equal(EVP_Digest(buf, 48 + len, pcr, &n, EVP_sha384(), NULL), 1);
}

static const uint8_t zeros[48];

/* ---- DescribePCR ---- */

static void t_describe_pcr(void **state)
{
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x00")),
                        true, g_pcr0);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x01")),
                        true, g_pcr1);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x02")),
                        true, g_pcr2);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x08")),
                        true, g_pcr8);
    /* 3..15: zero and locked; 16..31: zero and unlocked */
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x0f")),
                        true, zeros);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x18\x1f")),
                        false, zeros);
}

static void t_describe_pcr_widths(void **state)
{
    /* the same index 16 in 1, 2, 4 and 8 bytes */
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x10")),
                        false, zeros);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x18\x10")),
                        false, zeros);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x19\x00\x10")),
                        false, zeros);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x1a\x00\x00\x00\x10")),
                        false, zeros);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x1b\x00\x00\x00\x00\x00\x00\x00\x02")),
                        true, g_pcr2);
    /* an unknown key is ignored, in any position */
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa2\x63"
                                        "foo"
                                        "\x82\x01\x02"
                                        "\x65"
                                        "index"
                                        "\x01")),
                        true, g_pcr1);
}

static void t_describe_pcr_errors(void **state)
{
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x18\x20")),
                 "InvalidIndex");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x19\xff\xff")),
                 "InvalidIndex");
    /* beyond u16, negative, text, null, missing, duplicate: not a valid request */
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x1a\x00\x01\x00\x00")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x20")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x61"
                                 "0")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa1\x65"
                                 "index"
                                 "\xf6")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa0")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa2\x65"
                                 "index"
                                 "\x00\x65"
                                 "index"
                                 "\x01")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xf6")),
                 "InvalidOperation");
    /* a non-text key in the fields */
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa1\x00\x00")),
                 "InvalidOperation");
}

/* ---- ExtendPCR, LockPCR, LockPCRs ---- */

static void expect_extended(size_t n, const uint8_t value[48])
{
    uint8_t want[80];
    memcpy(want,
           "\xa1\x69"
           "ExtendPCR"
           "\xa1\x64"
           "data"
           "\x58\x30",
           19);
    memcpy(want + 19, value, 48);
    expect_bytes(n, want, 67);
}

static void t_extend_pcr(void **state)
{
    uint8_t v[48] = {0};
    sha384_extend(v, "abc", 3);
    expect_extended(call(state, REQ("\xa1\x69"
                                    "ExtendPCR"
                                    "\xa2\x65"
                                    "index"
                                    "\x10\x64"
                                    "data"
                                    "\x43"
                                    "abc")),
                    v);
    /* keys in the other order, data as a text string (QEMU accepts it) */
    sha384_extend(v, "xyz", 3);
    expect_extended(call(state, REQ("\xa1\x69"
                                    "ExtendPCR"
                                    "\xa2\x64"
                                    "data"
                                    "\x63"
                                    "xyz"
                                    "\x65"
                                    "index"
                                    "\x10")),
                    v);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x10")),
                        false, v);
    /* empty data is an extension too */
    sha384_extend(v, "", 0);
    expect_extended(call(state, REQ("\xa1\x69"
                                    "ExtendPCR"
                                    "\xa2\x65"
                                    "index"
                                    "\x10\x64"
                                    "data"
                                    "\x40")),
                    v);
}

static void t_extend_pcr_errors(void **state)
{
    expect_error(call(state, REQ("\xa1\x69"
                                 "ExtendPCR"
                                 "\xa2\x65"
                                 "index"
                                 "\x00\x64"
                                 "data"
                                 "\x41"
                                 "a")),
                 "ReadOnlyIndex");
    expect_error(call(state, REQ("\xa1\x69"
                                 "ExtendPCR"
                                 "\xa2\x65"
                                 "index"
                                 "\x0f\x64"
                                 "data"
                                 "\x41"
                                 "a")),
                 "ReadOnlyIndex");
    expect_error(call(state, REQ("\xa1\x69"
                                 "ExtendPCR"
                                 "\xa2\x65"
                                 "index"
                                 "\x18\x20\x64"
                                 "data"
                                 "\x41"
                                 "a")),
                 "InvalidIndex");
    expect_error(call(state, REQ("\xa1\x69"
                                 "ExtendPCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x10")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x69"
                                 "ExtendPCR"
                                 "\xa1\x64"
                                 "data"
                                 "\x41"
                                 "a")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x69"
                                 "ExtendPCR"
                                 "\xa2\x65"
                                 "index"
                                 "\x10\x64"
                                 "data"
                                 "\xf6")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x69"
                                 "ExtendPCR"
                                 "\xa2\x65"
                                 "index"
                                 "\x10\x64"
                                 "data"
                                 "\x01")),
                 "InvalidOperation");
}

static void t_lock_pcr(void **state)
{
    expect_bytes(call(state, REQ("\xa1\x67"
                                 "LockPCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x11")),
                 "\x67"
                 "LockPCR",
                 8);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x11")),
                        true, zeros);
    expect_error(call(state, REQ("\xa1\x67"
                                 "LockPCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x11")),
                 "ReadOnlyIndex");
    expect_error(call(state, REQ("\xa1\x69"
                                 "ExtendPCR"
                                 "\xa2\x65"
                                 "index"
                                 "\x11\x64"
                                 "data"
                                 "\x41"
                                 "a")),
                 "ReadOnlyIndex");
    expect_error(call(state, REQ("\xa1\x67"
                                 "LockPCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x00")),
                 "ReadOnlyIndex");
    expect_error(call(state, REQ("\xa1\x67"
                                 "LockPCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x18\x20")),
                 "InvalidIndex");
    expect_error(call(state, REQ("\xa1\x67"
                                 "LockPCR"
                                 "\xa1\x65"
                                 "range"
                                 "\x11")),
                 "InvalidOperation");
}

static void t_lock_pcrs(void **state)
{
    expect_error(call(state, REQ("\xa1\x68"
                                 "LockPCRs"
                                 "\xa1\x65"
                                 "range"
                                 "\x18\x21")),
                 "InvalidIndex");
    expect_bytes(call(state, REQ("\xa1\x68"
                                 "LockPCRs"
                                 "\xa1\x65"
                                 "range"
                                 "\x14")),
                 "\x68"
                 "LockPCRs",
                 9);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x13")),
                        true, zeros);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x14")),
                        false, zeros);
    /* range = max_pcrs succeeds, also over locked PCRs */
    expect_bytes(call(state, REQ("\xa1\x68"
                                 "LockPCRs"
                                 "\xa1\x65"
                                 "range"
                                 "\x18\x20")),
                 "\x68"
                 "LockPCRs",
                 9);
    expect_describe_pcr(call(state, REQ("\xa1\x6b"
                                        "DescribePCR"
                                        "\xa1\x65"
                                        "index"
                                        "\x18\x1f")),
                        true, zeros);
    expect_error(call(state, REQ("\xa1\x68"
                                 "LockPCRs"
                                 "\xa1\x65"
                                 "index"
                                 "\x01")),
                 "InvalidOperation");
}

/* ---- DescribeNSM ---- */

static void t_describe_nsm(void **state)
{
    static const uint8_t want[] =
        "\xa1\x6b"
        "DescribeNSM"
        "\xa7"
        "\x6d"
        "version_major"
        "\x01"
        "\x6d"
        "version_minor"
        "\x00"
        "\x6d"
        "version_patch"
        "\x00"
        "\x69"
        "module_id"
        "\x6b"
        "i-test-enc1"
        "\x68"
        "max_pcrs"
        "\x18\x20"
        "\x6b"
        "locked_pcrs"
        "\x90\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
        "\x66"
        "digest"
        "\x66"
        "SHA384";
    expect_bytes(call(state, REQ("\x6b"
                                 "DescribeNSM")),
                 want, sizeof(want) - 1);
    /* after locking 16 and 31 */
    call(state, REQ("\xa1\x67"
                    "LockPCR"
                    "\xa1\x65"
                    "index"
                    "\x10"));
    call(state, REQ("\xa1\x67"
                    "LockPCR"
                    "\xa1\x65"
                    "index"
                    "\x18\x1f"));
    size_t n = call(state, REQ("\x6b"
                               "DescribeNSM"));
    static const uint8_t locked[] = "\x6b"
                                    "locked_pcrs"
                                    "\x92\x00\x01\x02\x03\x04\x05\x06\x07\x08"
                                    "\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x18\x1f";
    assert_non_null(memmem(g_resp, n, locked, sizeof(locked) - 1));
}

/* ---- GetRandom ---- */

static void t_get_random(void **state)
{
    static const uint8_t prefix[] = "\xa1\x69"
                                    "GetRandom"
                                    "\xa1\x66"
                                    "random"
                                    "\x59\x01\x00";
    uint8_t first[256];
    size_t n = call(state, REQ("\x69"
                               "GetRandom"));
    assert_int_equal(n, sizeof(prefix) - 1 + 256);
    assert_memory_equal(g_resp, prefix, sizeof(prefix) - 1);
    memcpy(first, g_resp + sizeof(prefix) - 1, 256);
    n = call(state, REQ("\x69"
                        "GetRandom"));
    assert_int_equal(n, sizeof(prefix) - 1 + 256);
    assert_memory_not_equal(first, g_resp + sizeof(prefix) - 1, 256);
}

/* ---- Attestation ---- */

static const uint8_t attestation_prefix[] = "\xa1\x6b"
                                            "Attestation"
                                            "\xa1\x68"
                                            "document"
                                            "\x59";
static const uint8_t cose_prefix[] = "\x84\x44\xa1\x01\x38\x22\xa0\x59";

static void expect_document(size_t n)
{
    size_t k = sizeof(attestation_prefix) - 1;
    assert_true(n > k + 2 + 8);
    assert_memory_equal(g_resp, attestation_prefix, k);
    size_t doc_len = (size_t)g_resp[k] << 8 | g_resp[k + 1];
    assert_int_equal(n, k + 2 + doc_len);
    assert_memory_equal(g_resp + k + 2, cose_prefix, sizeof(cose_prefix) - 1);
    assert_true(n <= NSM_RESPONSE_MAX_SIZE);
}

static void t_attestation(void **state)
{
    /* Rust's shape: all three keys, null when absent */
    expect_document(call(state, REQ("\xa1\x6b"
                                    "Attestation"
                                    "\xa3\x69"
                                    "user_data"
                                    "\xf6\x65"
                                    "nonce"
                                    "\xf6\x6a"
                                    "public_key"
                                    "\xf6")));
    /* QEMU's allowances: an empty map, missing keys, text values */
    expect_document(call(state, REQ("\xa1\x6b"
                                    "Attestation"
                                    "\xa0")));
    expect_document(call(state, REQ("\xa1\x6b"
                                    "Attestation"
                                    "\xa1\x65"
                                    "nonce"
                                    "\x63"
                                    "abc")));
    expect_document(call(state, REQ("\xa1\x6b"
                                    "Attestation"
                                    "\xa2\x65"
                                    "nonce"
                                    "\x40\x6a"
                                    "public_key"
                                    "\x40")));
}

static void t_attestation_max(void **state)
{
    /* 1024 bytes in each field: the request is under 0x1000 and the response fits 0x3000 */
    static uint8_t req[NSM_REQUEST_MAX_SIZE];
    size_t k = 0;
    memcpy(req,
           "\xa1\x6b"
           "Attestation"
           "\xa3",
           14);
    k = 14;
    const char *names[] = {"user_data", "nonce", "public_key"};
    for (int i = 0; i < 3; i++) {
        req[k++] = (uint8_t)(0x60 + strlen(names[i]));
        memcpy(req + k, names[i], strlen(names[i]));
        k += strlen(names[i]);
        req[k++] = 0x59;
        req[k++] = 0x04;
        req[k++] = 0x00;
        memset(req + k, 'a' + i, 1024);
        k += 1024;
    }
    assert_true(k <= NSM_REQUEST_MAX_SIZE);
    expect_document(call(state, req, k));
    /* 1025 bytes of user_data: refused */
    req[14 + 10 + 2] = 0x01;
    memmove(req + 14 + 10 + 3 + 1, req + 14 + 10 + 3, k - (14 + 10 + 3));
    assert_true(k + 1 <= NSM_REQUEST_MAX_SIZE);
    expect_error(call(state, req, k + 1), "InputTooLarge");
}

static void t_attestation_errors(void **state)
{
    struct nsm *nsm = *state;
    expect_error(call(state, REQ("\xa1\x6b"
                                 "Attestation"
                                 "\xa1\x69"
                                 "user_data"
                                 "\x01")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "Attestation"
                                 "\xf6")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "Attestation"
                                 "\xa2\x65"
                                 "nonce"
                                 "\xf6\x65"
                                 "nonce"
                                 "\xf6")),
                 "InvalidOperation");
    nsm_set_signer(nsm, NULL);
    expect_error(call(state, REQ("\xa1\x6b"
                                 "Attestation"
                                 "\xa0")),
                 "InternalError");
    nsm_set_signer(nsm, &g_signer);
}

/* ---- malformed requests ---- */

static void t_malformed(void **state)
{
    static uint8_t big[NSM_REQUEST_MAX_SIZE + 1];
    expect_error(call(state, big, sizeof(big)), "InputTooLarge");
    expect_error(call(state, NULL, 0), "InvalidOperation");
    /* truncated: in a text, in a map, after the variant */
    expect_error(call(state, REQ("\x6b"
                                 "DescribeNS")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xa1\x65"
                                 "index")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x69"
                                 "ExtendPCR"
                                 "\xa2\x65"
                                 "index"
                                 "\x10\x64"
                                 "data"
                                 "\x45"
                                 "abc")),
                 "InvalidOperation");
    /* unknown commands, wrong shapes */
    expect_error(call(state, REQ("\x63"
                                 "Foo")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\x67"
                                 "LockPCR")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x63"
                                 "Foo"
                                 "\xa0")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribeNSM"
                                 "\xa0")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xa2\x6b"
                                 "DescribeNSM"
                                 "\xa0\x69"
                                 "GetRandom"
                                 "\xa0")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\x4b"
                                 "DescribeNSM")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\x00")), "InvalidOperation");
    /* indefinite lengths, tags, trailing bytes */
    expect_error(call(state, REQ("\x7f\x6b"
                                 "DescribeNSM"
                                 "\xff")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xbf\x6b"
                                 "DescribePCR"
                                 "\xa1\x65"
                                 "index"
                                 "\x00\xff")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\xd8\x20\x6b"
                                 "DescribeNSM")),
                 "InvalidOperation");
    expect_error(call(state, REQ("\x6b"
                                 "DescribeNSM"
                                 "\x00")),
                 "InvalidOperation");
    /* a map claiming more entries than bytes */
    expect_error(call(state, REQ("\xa1\x6b"
                                 "DescribePCR"
                                 "\xbb\xff\xff\xff\xff\xff\xff\xff\xff")),
                 "InvalidOperation");
}

static void t_response_capacity(void **state)
{
    uint8_t small[24];
    /* too small for anything */
    assert_int_equal(nsm_handle(*state,
                                REQ("\x6b"
                                    "DescribeNSM"),
                                small, 4),
                     0);
    /* room for an error but not for the response */
    size_t n = nsm_handle(*state,
                          REQ("\x6b"
                              "DescribeNSM"),
                          small, sizeof(small));
    assert_int_equal(n, 21);
    assert_memory_equal(small,
                        "\xa1\x65"
                        "Error"
                        "\x6d"
                        "InternalError",
                        21);
}

static void t_debug_mode(void **state)
{
    struct nsm nsm;
    assert_int_equal(nsm_init(&nsm, g_pcr0, g_pcr1, g_pcr2, g_pcr8, true, "i-dbg", &g_signer), 0);
    void *st = &nsm;
    for (uint8_t i = 0; i < 16; i++) {
        uint8_t req[] = "\xa1\x6b"
                        "DescribePCR"
                        "\xa1\x65"
                        "index"
                        "\x00";
        req[sizeof(req) - 2] = i;
        expect_describe_pcr(call(&st, req, sizeof(req) - 1), true, zeros);
    }
}

static void t_init(void **state)
{
    struct nsm nsm;
    assert_int_equal(nsm_init(&nsm, g_pcr0, g_pcr1, g_pcr2, NULL, false, "", NULL), -1);
    assert_int_equal(nsm_init(&nsm, g_pcr0, g_pcr1, g_pcr2, NULL, false, "has space", NULL), -1);
    char long_id[NSM_MODULE_ID_MAX + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(nsm_init(&nsm, g_pcr0, g_pcr1, g_pcr2, NULL, false, long_id, NULL), -1);
    assert_int_equal(nsm_init(&nsm, g_pcr0, g_pcr1, g_pcr2, NULL, false, "ok", NULL), 0);
    assert_memory_equal(nsm.pcrs[8].value, zeros, 48);
    assert_true(nsm.pcrs[15].locked);
    assert_false(nsm.pcrs[16].locked);
    assert_string_equal(nsm_error_name(NSM_INPUT_TOO_LARGE), "InputTooLarge");
    assert_null(nsm_error_name((enum nsm_error)99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(t_describe_pcr, setup),
        cmocka_unit_test_setup(t_describe_pcr_widths, setup),
        cmocka_unit_test_setup(t_describe_pcr_errors, setup),
        cmocka_unit_test_setup(t_extend_pcr, setup),
        cmocka_unit_test_setup(t_extend_pcr_errors, setup),
        cmocka_unit_test_setup(t_lock_pcr, setup),
        cmocka_unit_test_setup(t_lock_pcrs, setup),
        cmocka_unit_test_setup(t_describe_nsm, setup),
        cmocka_unit_test_setup(t_get_random, setup),
        cmocka_unit_test_setup(t_attestation, setup),
        cmocka_unit_test_setup(t_attestation_max, setup),
        cmocka_unit_test_setup(t_attestation_errors, setup),
        cmocka_unit_test_setup(t_malformed, setup),
        cmocka_unit_test_setup(t_response_capacity, setup),
        cmocka_unit_test(t_debug_mode),
        cmocka_unit_test(t_init),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
