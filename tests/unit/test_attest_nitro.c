/* test_attest_nitro.c: the verifier (src/attest/verify.c) on genuine AWS Nitro attestation
 * documents, with AWS's root certificate (tests/data/nitro, where each file comes from is in its
 * README.md). Each document must verify as of a time inside the validity of its certificates,
 * and fail once its signing certificate has expired or before it was valid, with alcove's own CA
 * as the root, with a byte of its payload or of its signature flipped, and with its cabundle cut
 * short, reordered or padded. Also attest_parse_time, the parser of `--at`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/ca.h"
#include "attest/verify.h"

#define NITRO_DIR TEST_DATA "/nitro/"

struct vector {
    const char *file;
    const char *module_id;
    uint64_t timestamp_ms;
    bool debug;
};

static const struct vector g_vectors[] = {
    {"blocky-2024-09-07.cbor", "i-0a22e5c5f24d22174-enc0191cceb4289903f", 1725719859545, false},
    {"blocky-2024-09-07-debug.cbor", "i-0a22e5c5f24d22174-enc0191ccebaf8feaba", 1725719886508,
     true},
    {"cape-2022-09-15.cbor", "i-0697c9729fa547b20-enc0183422ede9a5dc8", 1663263808848, false},
    {"cape-2022-09-28.cbor", "i-020f5b14d2f96fea8-enc018384b6a26e54f4", 1664379207680, false},
};
#define N_VECTORS (sizeof(g_vectors) / sizeof(g_vectors[0]))

static uint8_t *g_root;
static size_t g_root_len;
static char g_err[ATTEST_ERR_SIZE];
static struct attest_result g_res;

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int setup_all(void **state)
{
    (void)state;
    FILE *f = fopen(NITRO_DIR "AWS_NitroEnclaves_Root-G1.pem", "r");
    X509 *root = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int n = root ? i2d_X509(root, &der) : -1;
    if (f)
        fclose(f);
    X509_free(root);
    if (n <= 0)
        return -1;
    g_root = malloc((size_t)n);
    memcpy(g_root, der, (size_t)n);
    g_root_len = (size_t)n;
    OPENSSL_free(der);
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    free(g_root);
    return 0;
}

static uint8_t *load(const struct vector *v, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), NITRO_DIR "%s", v->file);
    uint8_t *doc = slurp(path, len);
    /* 84 44 a1 01 38 22 a0 59 hi lo: an untagged COSE_Sign1, the payload's length in 2 bytes */
    assert_true(*len > 10 + 98);
    assert_memory_equal(doc, "\x84\x44\xa1\x01\x38\x22\xa0\x59", 8);
    assert_int_equal(10 + ((size_t)doc[8] << 8 | doc[9]) + 2 + 96, *len);
    return doc;
}

static enum attest_status verify_at(const uint8_t *doc, size_t len, const uint8_t *root,
                                    size_t root_len, time_t now, bool accept_debug)
{
    struct attest_policy pol;
    memset(&pol, 0, sizeof(pol));
    pol.ca_der = root;
    pol.ca_der_len = root_len;
    pol.now = now;
    pol.accept_debug = accept_debug;
    return attest_verify(doc, len, &pol, &g_res, g_err, sizeof(g_err));
}

/* A minute after the document was made: inside the validity of all its certificates. */
static time_t good_time(const struct vector *v)
{
    return (time_t)(v->timestamp_ms / 1000) + 60;
}

static void expect(enum attest_status got, enum attest_status want, const char *part)
{
    if (got != want || strstr(g_err, part) == NULL)
        fail_msg("status %s, want %s; error \"%s\", want \"%s\" in it", attest_status_str(got),
                 attest_status_str(want), g_err, part);
}

static void test_genuine_documents_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const struct vector *v = &g_vectors[i];
        size_t len;
        uint8_t *doc = load(v, &len);
        expect(verify_at(doc, len, g_root, g_root_len, good_time(v), v->debug), ATTEST_OK, "");
        assert_string_equal(g_res.module_id, v->module_id);
        assert_int_equal(g_res.timestamp_ms, v->timestamp_ms);
        assert_string_equal(g_res.digest, "SHA384");
        assert_int_equal(g_res.cabundle_n, 4);
        assert_int_equal(g_res.pcr_mask, 0xffff);
        assert_int_equal(g_res.debug, v->debug);
        assert_non_null(strstr(g_res.cert_subject, v->module_id));
        if (v->debug)
            expect(verify_at(doc, len, g_root, g_root_len, good_time(v), false), ATTEST_POLICY,
                   "debug-mode");
        free(doc);
    }
}

static void test_expired_and_not_yet_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const struct vector *v = &g_vectors[i];
        size_t len;
        time_t not_before, not_after;
        uint8_t *doc = load(v, &len);
        assert_int_equal(verify_at(doc, len, g_root, g_root_len, good_time(v), true), ATTEST_OK);
        assert_int_equal(attest_parse_time(g_res.cert_not_before, &not_before), 0);
        assert_int_equal(attest_parse_time(g_res.cert_not_after, &not_after), 0);
        /* the signing certificate lives about 3 hours, the CAs above it longer */
        assert_true(not_after - not_before > 3600 && not_after - not_before < 4 * 3600);
        assert_int_equal(verify_at(doc, len, g_root, g_root_len, not_after - 1, true), ATTEST_OK);
        expect(verify_at(doc, len, g_root, g_root_len, not_after + 1, true), ATTEST_CHAIN,
               "certificate has expired (at depth 0)");
        expect(verify_at(doc, len, g_root, g_root_len, not_after + 7 * 86400, true), ATTEST_CHAIN,
               "certificate has expired");
        expect(verify_at(doc, len, g_root, g_root_len, not_before - 1, true), ATTEST_CHAIN,
               "certificate is not yet valid (at depth 0)");
        free(doc);
    }
}

static void test_alcove_ca_as_root(void **state)
{
    (void)state;
    char why[256];
    uint8_t *der;
    size_t der_len;
    const struct vector *v = &g_vectors[0];
    struct attest_ca *ca = ca_generate("test.alcove-enclaves", good_time(v), why, sizeof(why));
    assert_non_null(ca);
    assert_int_equal(ca_cert_der(ca, &der, &der_len), 0);
    for (size_t i = 0; i < N_VECTORS; i++) {
        size_t len;
        uint8_t *doc = load(&g_vectors[i], &len);
        expect(verify_at(doc, len, der, der_len, good_time(&g_vectors[i]), true), ATTEST_CHAIN,
               "the root (cabundle[0]) is not the pinned CA");
        free(doc);
    }
    free(der);
    ca_free(ca);
}

static void test_flipped_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const struct vector *v = &g_vectors[i];
        size_t len;
        uint8_t *doc = load(v, &len);
        size_t payload_end = 10 + ((size_t)doc[8] << 8 | doc[9]);
        /* the payload's last byte is inside the nonce, so the payload still parses */
        size_t at[] = {payload_end - 1, len - 96, len - 49, len - 1};
        for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
            doc[at[k]] ^= 0x01;
            expect(verify_at(doc, len, g_root, g_root_len, good_time(v), true), ATTEST_SIGNATURE,
                   "signature does not verify");
            doc[at[k]] ^= 0x01;
        }
        assert_int_equal(verify_at(doc, len, g_root, g_root_len, good_time(v), true), ATTEST_OK);
        free(doc);
    }
}

/* The document with its cabundle replaced by the original entries in the order given (the
 * signature, left as it was, no longer matches; the chain is checked first). */
static uint8_t *with_cabundle(const uint8_t *doc, size_t len, const int *order, int n,
                              size_t *out_len)
{
    static const char key[] = "\x68"
                              "cabundle\x84";
    const uint8_t *payload = doc + 10;
    size_t plen = (size_t)doc[8] << 8 | doc[9];
    const uint8_t *p = memmem(payload, plen, key, sizeof(key) - 1);
    assert_non_null(p);
    const uint8_t *entry[4], *q = p + sizeof(key) - 1;
    size_t entry_len[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(q[0], 0x59); /* each certificate: bstr, 2-byte length */
        entry[i] = q;
        entry_len[i] = 3 + ((size_t)q[1] << 8 | q[2]);
        q += entry_len[i];
    }
    uint8_t *out = malloc(len + 4096), *w = out + 10;
    memcpy(w, payload, (size_t)(p - payload) + sizeof(key) - 2);
    w += (size_t)(p - payload) + sizeof(key) - 2;
    *w++ = (uint8_t)(0x80 + n);
    for (int i = 0; i < n; i++) {
        memcpy(w, entry[order[i]], entry_len[order[i]]);
        w += entry_len[order[i]];
    }
    memcpy(w, q, plen - (size_t)(q - payload));
    w += plen - (size_t)(q - payload);
    size_t new_plen = (size_t)(w - out - 10);
    assert_true(new_plen < 65536);
    memcpy(out, doc, 8);
    out[8] = (uint8_t)(new_plen >> 8);
    out[9] = (uint8_t)new_plen;
    memcpy(w, doc + 10 + plen, len - 10 - plen);
    *out_len = (size_t)(w - out) + len - 10 - plen;
    return out;
}

static void test_changed_cabundle(void **state)
{
    (void)state;
    static const struct {
        int order[5], n;
        const char *why;
    } cases[] = {
        {{0, 2, 3}, 3, "unable to get local issuer certificate (at depth 2)"}, /* no regional */
        {{0, 1, 3}, 3, "unable to get local issuer certificate (at depth 1)"}, /* no zonal */
        {{0, 1, 2}, 3, "unable to get local issuer certificate (at depth 0)"}, /* no instance */
        {{0, 2, 1, 3}, 4, "cabundle[2] is not the issuer of cabundle[3]"},     /* out of order */
        {{0, 1, 2, 3, 3}, 5, "a cabundle entry is unused"},                    /* padded */
        {{0, 1, 3, 2}, 4, "cabundle[3] is not the issuer of the signing certificate"},
        {{1, 2, 3}, 3, "the root (cabundle[0]) is not the pinned CA"}, /* no root */
    };
    for (size_t i = 0; i < N_VECTORS; i++) {
        const struct vector *v = &g_vectors[i];
        size_t len, mlen;
        uint8_t *doc = load(v, &len);
        static const int same[] = {0, 1, 2, 3};
        uint8_t *m = with_cabundle(doc, len, same, 4, &mlen);
        assert_int_equal(mlen, len);
        assert_memory_equal(m, doc, len);
        assert_int_equal(verify_at(m, mlen, g_root, g_root_len, good_time(v), true), ATTEST_OK);
        free(m);
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
            m = with_cabundle(doc, len, cases[k].order, cases[k].n, &mlen);
            expect(verify_at(m, mlen, g_root, g_root_len, good_time(v), true), ATTEST_CHAIN,
                   cases[k].why);
            free(m);
        }
        free(doc);
    }
}

static void test_parse_time(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        time_t t;
    } good[] = {
        {"1725719919", 1725719919},
        {"1", 1},
        {"2024-09-07T14:38:39Z", 1725719919},
        {"2024-09-07t14:38:39z", 1725719919},
        {"2024-09-07 14:38:39Z", 1725719919},
        {"2024-09-07T14:38:39.999Z", 1725719919},
        {"2024-09-07T16:38:39+02:00", 1725719919},
        {"2024-09-07T09:08:39-05:30", 1725719919},
        {"2024-02-29T00:00:00Z", 1709164800},
        {"2016-12-31T23:59:60Z", 1483228800},
        {"1970-01-01T00:00:01Z", 1},
    };
    static const char *const bad[] = {
        "",
        "0",
        "-1",
        "+5",
        "17257199x",
        "1234567890123",
        "2024-09-07T14:38:39",
        "2024-09-07T14:38Z",
        "2024-09-07",
        "2024-9-07T14:38:39Z",
        "2024-09-07T14:38:39.Z",
        "2024-09-07T14:38:39+0200",
        "2024-09-07T14:38:39+02:00x",
        "2024-09-07T14:38:39ZZ",
        "2023-02-29T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-09-07T24:00:00Z",
        "2024-09-07T23:60:00Z",
        "2024-09-07T23:59:61Z",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:00:00Z",
        "1970-01-01T00:30:00+01:00",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        time_t t = 0;
        if (attest_parse_time(good[i].s, &t) != 0 || t != good[i].t)
            fail_msg("%s: got %lld, want %lld", good[i].s, (long long)t, (long long)good[i].t);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        time_t t = 0;
        if (attest_parse_time(bad[i], &t) == 0)
            fail_msg("%s: accepted as %lld", bad[i], (long long)t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genuine_documents_verify),
        cmocka_unit_test(test_expired_and_not_yet_valid),
        cmocka_unit_test(test_alcove_ca_as_root),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_changed_cabundle),
        cmocka_unit_test(test_parse_time),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
