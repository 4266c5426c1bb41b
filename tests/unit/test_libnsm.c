/* test_libnsm.c: libnsm on the host. The CBOR codec (encodings, round trips and every kind of
 * malformed input), the request encoders byte for byte against the wire shapes of the NSM
 * protocol, the response decoder (each variant, each error name, each malformed shape), and the
 * public API over a fake transport (error mapping, short buffers, oversized requests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alcove/nsm.h"
#include "nsm_cbor.h"
#include "nsm_fake_transport.h"
#include "nsm_msg.h"

/* A string literal as (bytes, length), NULs inside included. */
#define LIT(s) (const uint8_t *)(s), (sizeof(s) - 1)

static enum cbor_status dec(const uint8_t *p, size_t n)
{
    struct cbor_item it;
    return cbor_decode(p, n, &it);
}

/* ---- encoder ---- */

static void expect_uint(uint64_t v, const uint8_t *want, size_t n)
{
    uint8_t buf[16];
    struct cbor_enc e;
    cbor_enc_init(&e, buf, sizeof(buf));
    cbor_put_uint(&e, v);
    assert_int_equal(e.len, n);
    assert_memory_equal(buf, want, n);
}

static void test_enc_uint(void **state)
{
    (void)state;
    expect_uint(0, LIT("\x00"));
    expect_uint(23, LIT("\x17"));
    expect_uint(24, LIT("\x18\x18"));
    expect_uint(255, LIT("\x18\xff"));
    expect_uint(256, LIT("\x19\x01\x00"));
    expect_uint(65535, LIT("\x19\xff\xff"));
    expect_uint(65536, LIT("\x1a\x00\x01\x00\x00"));
    expect_uint(0xffffffffu, LIT("\x1a\xff\xff\xff\xff"));
    expect_uint(0x100000000ull, LIT("\x1b\x00\x00\x00\x01\x00\x00\x00\x00"));
    expect_uint(UINT64_MAX, LIT("\x1b\xff\xff\xff\xff\xff\xff\xff\xff"));
}

static void test_enc_items(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct cbor_enc e;
    cbor_enc_init(&e, buf, sizeof(buf));
    cbor_put_array(&e, 5);
    cbor_put_bstr(&e, "\x01\x02", 2);
    cbor_put_text(&e, "hi");
    cbor_put_bool(&e, true);
    cbor_put_bool(&e, false);
    cbor_put_null(&e);
    cbor_put_map(&e, 0);
    assert_true(cbor_enc_ok(&e));
    assert_int_equal(e.len, 11);
    assert_memory_equal(buf, "\x85\x42\x01\x02\x62hi\xf5\xf4\xf6\xa0", 11);
}

/* The encoder keeps counting past the end of its buffer and never writes beyond it. */
static void test_enc_overflow(void **state)
{
    (void)state;
    uint8_t buf[8];
    memset(buf, 0xee, sizeof(buf));
    struct cbor_enc e;
    cbor_enc_init(&e, buf, 4);
    cbor_put_bstr(&e, "abcdefghij", 10);
    assert_false(cbor_enc_ok(&e));
    assert_int_equal(e.len, 11);
    assert_memory_equal(buf,
                        "\x4a"
                        "abc\xee\xee\xee\xee",
                        8);
    cbor_enc_init(&e, NULL, 100); /* measuring only */
    cbor_put_text(&e, "DescribeNSM");
    assert_int_equal(e.len, 12);
}

/* ---- decoder ---- */

static void test_dec_round_trip(void **state)
{
    (void)state;
    uint8_t buf[256], blob[300];
    for (size_t i = 0; i < sizeof(blob); i++)
        blob[i] = (uint8_t)i;
    struct cbor_enc e;
    cbor_enc_init(&e, buf, sizeof(buf));
    cbor_put_map(&e, 3);
    cbor_put_text(&e, "n");
    cbor_put_uint(&e, 1234567890123ull);
    cbor_put_text(&e, "list");
    cbor_put_array(&e, 3);
    cbor_put_bool(&e, true);
    cbor_put_null(&e);
    cbor_put_bstr(&e, blob, 200);
    cbor_put_text(&e, "s");
    cbor_put_text(&e, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_true(cbor_enc_ok(&e));

    struct cbor_item top, v, x;
    assert_int_equal(cbor_decode(buf, e.len, &top), CBOR_OK);
    assert_int_equal(top.type, CBOR_MAP);
    assert_int_equal(top.count, 3);
    assert_ptr_equal(top.end, buf + e.len);
    uint64_t n;
    assert_int_equal(cbor_map_find(&top, "n", &v), CBOR_OK);
    assert_int_equal(cbor_get_uint(&v, UINT64_MAX, &n), CBOR_OK);
    assert_true(n == 1234567890123ull);
    assert_int_equal(cbor_get_uint(&v, 0xffff, &n), CBOR_E_RANGE);
    assert_int_equal(cbor_map_find(&top, "list", &v), CBOR_OK);
    assert_int_equal(v.type, CBOR_ARRAY);
    assert_int_equal(v.count, 3);
    bool b = false;
    assert_int_equal(cbor_array_get(&v, 0, &x), CBOR_OK);
    assert_int_equal(cbor_get_bool(&x, &b), CBOR_OK);
    assert_true(b);
    assert_int_equal(cbor_array_get(&v, 1, &x), CBOR_OK);
    assert_true(cbor_is_null(&x));
    assert_int_equal(cbor_get_bool(&x, &b), CBOR_E_TYPE);
    assert_int_equal(cbor_array_get(&v, 2, &x), CBOR_OK);
    assert_int_equal(x.type, CBOR_BSTR);
    assert_int_equal(x.len, 200);
    assert_memory_equal(x.data, blob, 200);
    assert_int_equal(cbor_array_get(&v, 3, &x), CBOR_E_NOTFOUND);
    assert_int_equal(cbor_map_find(&top, "s", &v), CBOR_OK);
    assert_true(cbor_text_eq(&v, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
    assert_int_equal(cbor_map_find(&top, "missing", &v), CBOR_E_NOTFOUND);
    assert_int_equal(cbor_map_find(&v, "x", &x), CBOR_E_TYPE);
}

static void test_dec_scalars(void **state)
{
    (void)state;
    struct cbor_item it;
    assert_int_equal(cbor_decode(LIT("\x3a\x00\x01\x00\x00"), &it), CBOR_OK);
    assert_int_equal(it.type, CBOR_NEGINT);
    assert_true(it.val == 0x10000); /* -65537 */
    assert_int_equal(cbor_decode(LIT("\xf4"), &it), CBOR_OK);
    assert_int_equal(it.type, CBOR_SIMPLE);
    assert_int_equal(it.val, CBOR_FALSE);
    /* well-formed but not the shortest form: accepted, as serde_cbor accepts it */
    assert_int_equal(cbor_decode(LIT("\x18\x05"), &it), CBOR_OK);
    assert_true(it.val == 5);
    assert_int_equal(cbor_decode(LIT("\x59\x00\x01Z"), &it), CBOR_OK);
    assert_int_equal(it.len, 1);
    assert_int_equal(cbor_decode(LIT("\x40"), &it), CBOR_OK); /* empty byte string */
    assert_int_equal(it.len, 0);
    assert_int_equal(cbor_decode(LIT("\x80"), &it), CBOR_OK); /* empty array */
    assert_int_equal(cbor_decode(LIT("\xa0"), &it), CBOR_OK); /* empty map */
}

static void test_dec_truncated(void **state)
{
    (void)state;
    struct cbor_item it;
    assert_int_equal(cbor_decode(NULL, 0, &it), CBOR_E_TRUNCATED);
    assert_int_equal(dec(LIT("")), CBOR_E_TRUNCATED);
    assert_int_equal(dec(LIT("\x18")), CBOR_E_TRUNCATED);
    assert_int_equal(dec(LIT("\x19\x01")), CBOR_E_TRUNCATED);
    assert_int_equal(dec(LIT("\x1a\x01\x02\x03")), CBOR_E_TRUNCATED);
    assert_int_equal(dec(LIT("\x1b\x01\x02\x03\x04\x05\x06\x07")), CBOR_E_TRUNCATED);
    assert_int_equal(dec(LIT("\x58")), CBOR_E_TRUNCATED);
    assert_int_equal(dec(LIT("\x82\x81\x01")), CBOR_E_TRUNCATED);     /* [[1], ... */
    assert_int_equal(dec(LIT("\xa1\x81\x01")), CBOR_E_TRUNCATED);     /* {[1]: ... */
    assert_int_equal(dec(LIT("\x81\x82\x81\x01")), CBOR_E_TRUNCATED); /* [[[1], ... */
    /* counts that cannot fit in the bytes left are refused before looking at the contents */
    assert_int_equal(dec(LIT("\x82\x01")), CBOR_E_LENGTH);
    assert_int_equal(dec(LIT("\xa1\x01")), CBOR_E_LENGTH);
    assert_int_equal(dec(LIT("\xa2\x01\x02\x03")), CBOR_E_LENGTH);
    assert_int_equal(dec(LIT("\x81\x82\x01")), CBOR_E_LENGTH);
    /* every proper prefix of a valid message is refused */
    static const char msg[] = "\xa1\x6b"
                              "DescribePCR"
                              "\xa2\x64lock\xf5\x64"
                              "data\x43xyz";
    for (size_t n = 0; n < sizeof(msg) - 1; n++)
        assert_int_not_equal(dec((const uint8_t *)msg, n), CBOR_OK);
    assert_int_equal(dec(LIT(msg)), CBOR_OK);
}

static void test_dec_lengths(void **state)
{
    (void)state;
    assert_int_equal(dec(LIT("\x45"
                             "abcd")),
                     CBOR_E_LENGTH);
    assert_int_equal(dec(LIT("\x65"
                             "abcd")),
                     CBOR_E_LENGTH);
    assert_int_equal(dec(LIT("\x5b\xff\xff\xff\xff\xff\xff\xff\xff"
                             "a")),
                     CBOR_E_LENGTH);
    assert_int_equal(dec(LIT("\x7a\x80\x00\x00\x00"
                             "a")),
                     CBOR_E_LENGTH);
    assert_int_equal(dec(LIT("\x85\x01\x02")), CBOR_E_LENGTH);
    assert_int_equal(dec(LIT("\x9b\x7f\xff\xff\xff\xff\xff\xff\xff\x01")), CBOR_E_LENGTH);
    assert_int_equal(dec(LIT("\xa2\x01\x02")), CBOR_E_LENGTH); /* 2 pairs need 4 bytes */
    assert_int_equal(dec(LIT("\xbb\xff\xff\xff\xff\xff\xff\xff\xff\x01\x02")), CBOR_E_LENGTH);
}

static void test_dec_unsupported(void **state)
{
    (void)state;
    /* indefinite lengths and the break byte */
    assert_int_equal(dec(LIT("\x5f\x41"
                             "a\xff")),
                     CBOR_E_INDEFINITE);
    assert_int_equal(dec(LIT("\x7f\x61"
                             "a\xff")),
                     CBOR_E_INDEFINITE);
    assert_int_equal(dec(LIT("\x9f\x01\xff")), CBOR_E_INDEFINITE);
    assert_int_equal(dec(LIT("\xbf\x01\x02\xff")), CBOR_E_INDEFINITE);
    assert_int_equal(dec(LIT("\xff")), CBOR_E_INDEFINITE);
    assert_int_equal(dec(LIT("\x1f")), CBOR_E_INDEFINITE);
    /* reserved additional information */
    assert_int_equal(dec(LIT("\x1c")), CBOR_E_RESERVED);
    assert_int_equal(dec(LIT("\x5d")), CBOR_E_RESERVED);
    assert_int_equal(dec(LIT("\xfe")), CBOR_E_RESERVED);
    /* tags, floats, other simple values */
    assert_int_equal(dec(LIT("\xc0\x61"
                             "a")),
                     CBOR_E_UNSUPPORTED);
    assert_int_equal(dec(LIT("\xd2\x80")), CBOR_E_UNSUPPORTED);
    assert_int_equal(dec(LIT("\xf9\x3c\x00")), CBOR_E_UNSUPPORTED);
    assert_int_equal(dec(LIT("\xfa\x3f\x80\x00\x00")), CBOR_E_UNSUPPORTED);
    assert_int_equal(dec(LIT("\xfb\x3f\xf0\x00\x00\x00\x00\x00\x00")), CBOR_E_UNSUPPORTED);
    assert_int_equal(dec(LIT("\xf7")), CBOR_E_UNSUPPORTED);
    assert_int_equal(dec(LIT("\xe0")), CBOR_E_UNSUPPORTED);
    assert_int_equal(dec(LIT("\xf8\x20")), CBOR_E_UNSUPPORTED);
    assert_int_equal(dec(LIT("\xf8\x15")), CBOR_E_UNSUPPORTED); /* true, two-byte form */
    /* ... inside containers too */
    assert_int_equal(dec(LIT("\x82\x01\xf7")), CBOR_E_UNSUPPORTED);
    assert_int_equal(dec(LIT("\xa1\x61"
                             "a\xc1\x00")),
                     CBOR_E_UNSUPPORTED);
}

static void test_dec_utf8(void **state)
{
    (void)state;
    assert_int_equal(dec(LIT("\x62\xc3\xa9")), CBOR_OK);
    assert_int_equal(dec(LIT("\x62\xc3\x28")), CBOR_E_UTF8);         /* bad continuation */
    assert_int_equal(dec(LIT("\x61\xc3")), CBOR_E_UTF8);             /* cut sequence */
    assert_int_equal(dec(LIT("\x62\xc0\x80")), CBOR_E_UTF8);         /* overlong NUL */
    assert_int_equal(dec(LIT("\x63\xe0\x80\xaf")), CBOR_E_UTF8);     /* overlong '/' */
    assert_int_equal(dec(LIT("\x63\xed\xa0\x80")), CBOR_E_UTF8);     /* surrogate */
    assert_int_equal(dec(LIT("\x64\xf4\x90\x80\x80")), CBOR_E_UTF8); /* above U+10FFFF */
    assert_int_equal(dec(LIT("\x61\x80")), CBOR_E_UTF8);             /* lone continuation */
    assert_int_equal(dec(LIT("\x61\xff")), CBOR_E_UTF8);
    assert_int_equal(dec(LIT("\x41\xff")), CBOR_OK); /* byte strings are not text */
    /* map keys are checked too */
    assert_int_equal(dec(LIT("\xa1\x61\xff\x00")), CBOR_E_UTF8);
}

static void test_dec_depth(void **state)
{
    (void)state;
    uint8_t buf[64];
    /* CBOR_MAX_DEPTH nested arrays around a 0: fine; one more: refused */
    memset(buf, 0x81, sizeof(buf));
    buf[CBOR_MAX_DEPTH] = 0x00;
    assert_int_equal(dec(buf, CBOR_MAX_DEPTH + 1), CBOR_OK);
    buf[CBOR_MAX_DEPTH] = 0x81;
    buf[CBOR_MAX_DEPTH + 1] = 0x00;
    assert_int_equal(dec(buf, CBOR_MAX_DEPTH + 2), CBOR_E_DEPTH);
    /* the same with maps: {0: {0: ... 0}} */
    size_t n = 0;
    for (int i = 0; i < CBOR_MAX_DEPTH + 1; i++) {
        buf[n++] = 0xa1;
        buf[n++] = 0x00;
    }
    buf[n++] = 0x00;
    assert_int_equal(dec(buf, n), CBOR_E_DEPTH);
    assert_int_equal(dec(buf + 2, n - 2), CBOR_OK);
}

static void test_dec_trailing(void **state)
{
    (void)state;
    assert_int_equal(dec(LIT("\x00\x00")), CBOR_E_TRAILING);
    assert_int_equal(dec(LIT("\x69GetRandom\x00")), CBOR_E_TRAILING);
    assert_int_equal(dec(LIT("\x81\x01\x02")), CBOR_E_TRAILING);
}

static void test_map_lookup(void **state)
{
    (void)state;
    struct cbor_item m, v;
    uint64_t x;
    /* {1: "a", "k": 7, "z": [], "j": 9}: the key after a non-text key, in any position */
    assert_int_equal(cbor_decode(LIT("\xa4\x01\x61"
                                     "a\x61k\x07\x61z\x80\x61j\x09"),
                                 &m),
                     CBOR_OK);
    assert_int_equal(cbor_map_find(&m, "k", &v), CBOR_OK);
    assert_int_equal(cbor_get_uint(&v, 100, &x), CBOR_OK);
    assert_true(x == 7);
    assert_int_equal(cbor_map_find(&m, "j", &v), CBOR_OK);
    assert_int_equal(cbor_get_uint(&v, 100, &x), CBOR_OK);
    assert_true(x == 9);
    assert_int_equal(cbor_map_find(&m, "a", &v), CBOR_E_NOTFOUND); /* a value, not a key */
    assert_int_equal(cbor_map_find(&m, "", &v), CBOR_E_NOTFOUND);
    /* a key given twice */
    assert_int_equal(cbor_decode(LIT("\xa3\x61k\x01\x61x\x02\x61k\x03"), &m), CBOR_OK);
    assert_int_equal(cbor_map_find(&m, "k", &v), CBOR_E_DUPKEY);
    assert_int_equal(cbor_map_find(&m, "x", &v), CBOR_OK);
    /* iteration */
    struct cbor_iter it;
    int items = 0;
    assert_int_equal(cbor_iter_init(&m, &it), CBOR_OK);
    while (cbor_iter_next(&it, &v) == CBOR_OK)
        items++;
    assert_int_equal(items, 6);
    assert_int_equal(cbor_decode(LIT("\x01"), &v), CBOR_OK);
    assert_int_equal(cbor_iter_init(&v, &it), CBOR_E_TYPE);
    assert_string_equal(cbor_status_str(CBOR_E_DUPKEY), "duplicate key");
}

/* ---- requests ---- */

#define EXPECT_REQ(n, buf, lit)                                                                    \
    do {                                                                                           \
        assert_int_equal((n), sizeof(lit) - 1);                                                    \
        assert_memory_equal((buf), (lit), sizeof(lit) - 1);                                        \
    } while (0)

static void test_requests(void **state)
{
    (void)state;
    uint8_t b[NSM_REQUEST_MAX_SIZE];
    EXPECT_REQ(nsm_req_describe_pcr(b, sizeof(b), 0), b,
               "\xa1\x6b"
               "DescribePCR"
               "\xa1\x65"
               "index"
               "\x00");
    EXPECT_REQ(nsm_req_describe_pcr(b, sizeof(b), 31), b,
               "\xa1\x6b"
               "DescribePCR"
               "\xa1\x65"
               "index"
               "\x18\x1f");
    EXPECT_REQ(nsm_req_describe_pcr(b, sizeof(b), 300), b,
               "\xa1\x6b"
               "DescribePCR"
               "\xa1\x65"
               "index"
               "\x19\x01\x2c");
    EXPECT_REQ(nsm_req_extend_pcr(b, sizeof(b), 16, (const uint8_t *)"abc", 3), b,
               "\xa1\x69"
               "ExtendPCR"
               "\xa2\x65"
               "index"
               "\x10\x64"
               "data"
               "\x43"
               "abc");
    EXPECT_REQ(nsm_req_lock_pcr(b, sizeof(b), 16), b,
               "\xa1\x67"
               "LockPCR"
               "\xa1\x65"
               "index"
               "\x10");
    EXPECT_REQ(nsm_req_lock_pcrs(b, sizeof(b), 32), b,
               "\xa1\x68"
               "LockPCRs"
               "\xa1\x65"
               "range"
               "\x18\x20");
    EXPECT_REQ(nsm_req_describe_nsm(b, sizeof(b)), b,
               "\x6b"
               "DescribeNSM");
    EXPECT_REQ(nsm_req_get_random(b, sizeof(b)), b,
               "\x69"
               "GetRandom");
    EXPECT_REQ(nsm_req_attestation(b, sizeof(b), NULL, 0, NULL, 0, NULL, 0), b,
               "\xa1\x6b"
               "Attestation"
               "\xa3\x69"
               "user_data"
               "\xf6\x65"
               "nonce"
               "\xf6\x6a"
               "public_key"
               "\xf6");
    EXPECT_REQ(nsm_req_attestation(b, sizeof(b), (const uint8_t *)"ud", 2, (const uint8_t *)"", 0,
                                   (const uint8_t *)"k", 1),
               b,
               "\xa1\x6b"
               "Attestation"
               "\xa3\x69"
               "user_data"
               "\x42"
               "ud"
               "\x65"
               "nonce"
               "\x40\x6a"
               "public_key"
               "\x41"
               "k");
}

static void test_request_sizes(void **state)
{
    (void)state;
    static uint8_t big[5000];
    uint8_t b[NSM_REQUEST_MAX_SIZE + 16];
    memset(b, 0xee, sizeof(b));
    /* 1024 bytes in each attestation field fits (nsm-check sends that) */
    size_t n = nsm_req_attestation(b, NSM_REQUEST_MAX_SIZE, big, 1024, big, 1024, big, 1024);
    assert_true(n <= NSM_REQUEST_MAX_SIZE);
    /* A1, 6B Attestation, A3, 69 user_data, 59 0400 ..., 65 nonce, ..., 6A public_key, ... */
    assert_int_equal(n, 1 + 12 + 1 + 10 + 3 + 1024 + 6 + 3 + 1024 + 11 + 3 + 1024);
    /* too large: the full size is reported, nothing written past the buffer */
    n = nsm_req_extend_pcr(b, NSM_REQUEST_MAX_SIZE, 16, big, sizeof(big));
    assert_int_equal(n, 1 + 10 + 1 + 6 + 1 + 5 + 3 + sizeof(big));
    for (size_t i = NSM_REQUEST_MAX_SIZE; i < sizeof(b); i++)
        assert_int_equal(b[i], 0xee);
}

/* ---- responses ---- */

static ErrorCode decode(const uint8_t *p, size_t n, struct nsm_response *r)
{
    return nsm_decode_response(p, n, r);
}

#define PCR48                                                                                      \
    "\x58\x30"                                                                                     \
    "0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_resp_variants(void **state)
{
    (void)state;
    struct nsm_response r;
    /* DescribePCR, keys in Rust's order and in QEMU's */
    assert_int_equal(decode(LIT("\xa1\x6b"
                                "DescribePCR"
                                "\xa2\x64"
                                "lock\xf5\x64"
                                "data" PCR48),
                            &r),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(r.kind, NSM_RESP_DESCRIBE_PCR);
    assert_true(r.lock);
    assert_int_equal(r.data_len, 48);
    assert_memory_equal(r.data, "0123456789abcdef", 16);
    assert_int_equal(decode(LIT("\xa1\x6b"
                                "DescribePCR"
                                "\xa2\x64"
                                "data" PCR48 "\x64"
                                "lock\xf4"),
                            &r),
                     ERROR_CODE_SUCCESS);
    assert_false(r.lock);
    assert_int_equal(r.data_len, 48);
    /* ExtendPCR */
    assert_int_equal(decode(LIT("\xa1\x69"
                                "ExtendPCR"
                                "\xa1\x64"
                                "data" PCR48),
                            &r),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(r.kind, NSM_RESP_EXTEND_PCR);
    assert_int_equal(r.data_len, 48);
    /* LockPCR, LockPCRs */
    assert_int_equal(decode(LIT("\x67LockPCR"), &r), ERROR_CODE_SUCCESS);
    assert_int_equal(r.kind, NSM_RESP_LOCK_PCR);
    assert_int_equal(decode(LIT("\x68LockPCRs"), &r), ERROR_CODE_SUCCESS);
    assert_int_equal(r.kind, NSM_RESP_LOCK_PCRS);
    /* Attestation */
    assert_int_equal(decode(LIT("\xa1\x6b"
                                "Attestation"
                                "\xa1\x68"
                                "document"
                                "\x44\x84\x44\xa1\x01"),
                            &r),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(r.kind, NSM_RESP_ATTESTATION);
    assert_int_equal(r.data_len, 4);
    assert_memory_equal(r.data, "\x84\x44\xa1\x01", 4);
    /* GetRandom, in the layout the kernel's hwrng requires */
    assert_int_equal(decode(LIT("\xa1\x69"
                                "GetRandom"
                                "\xa1\x66"
                                "random"
                                "\x44\x01\x02\x03\x04"),
                            &r),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(r.kind, NSM_RESP_GET_RANDOM);
    assert_int_equal(r.data_len, 4);
    /* unknown fields are ignored, as serde does */
    assert_int_equal(decode(LIT("\xa1\x69"
                                "ExtendPCR"
                                "\xa2\x65"
                                "extra\x80\x64"
                                "data\x41x"),
                            &r),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(r.data_len, 1);
}

#define DESCRIBE_NSM_HEAD                                                                          \
    "\xa1\x6b"                                                                                     \
    "DescribeNSM"                                                                                  \
    "\xa7\x6d"                                                                                     \
    "version_major\x01\x6d"                                                                        \
    "version_minor\x02\x6d"                                                                        \
    "version_patch\x19\x01\x00\x69"                                                                \
    "module_id\x6d"                                                                                \
    "i-234-enc5678\x68"                                                                            \
    "max_pcrs\x18\x20"

static void test_resp_describe_nsm(void **state)
{
    (void)state;
    struct nsm_response r;
    assert_int_equal(decode(LIT(DESCRIBE_NSM_HEAD "\x6b"
                                                  "locked_pcrs"
                                                  "\x83\x00\x01\x0f\x66"
                                                  "digest\x66"
                                                  "SHA384"),
                            &r),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(r.kind, NSM_RESP_DESCRIBE_NSM);
    assert_int_equal(r.version_major, 1);
    assert_int_equal(r.version_minor, 2);
    assert_int_equal(r.version_patch, 256);
    assert_int_equal(r.max_pcrs, 32);
    assert_int_equal(r.module_id_len, 13);
    assert_memory_equal(r.module_id, "i-234-enc5678", 13);
    assert_int_equal(r.locked_pcrs.count, 3);
    assert_int_equal(r.digest, DIGEST_SHA384);
    assert_int_equal(decode(LIT(DESCRIBE_NSM_HEAD "\x6b"
                                                  "locked_pcrs\x80\x66"
                                                  "digest\x66"
                                                  "SHA512"),
                            &r),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(r.digest, DIGEST_SHA512);
    /* a bad digest name, a PCR index over u16, a locked_pcrs that is not an array */
    assert_int_equal(decode(LIT(DESCRIBE_NSM_HEAD "\x6b"
                                                  "locked_pcrs\x80\x66"
                                                  "digest\x63"
                                                  "MD5"),
                            &r),
                     ERROR_CODE_INTERNAL_ERROR);
    assert_int_equal(decode(LIT(DESCRIBE_NSM_HEAD "\x6b"
                                                  "locked_pcrs\x81\x1a\x00\x01\x00\x00\x66"
                                                  "digest\x66"
                                                  "SHA384"),
                            &r),
                     ERROR_CODE_INTERNAL_ERROR);
    assert_int_equal(decode(LIT(DESCRIBE_NSM_HEAD "\x6b"
                                                  "locked_pcrs\xa0\x66"
                                                  "digest\x66"
                                                  "SHA384"),
                            &r),
                     ERROR_CODE_INTERNAL_ERROR);
    /* a field missing (digest) */
    static const char no_digest[] = "\xa1\x6b"
                                    "DescribeNSM"
                                    "\xa6\x6d"
                                    "version_major\x01\x6d"
                                    "version_minor\x02\x6d"
                                    "version_patch\x03\x69"
                                    "module_id\x61x\x68"
                                    "max_pcrs\x18\x20\x6b"
                                    "locked_pcrs\x80";
    assert_int_equal(decode(LIT(no_digest), &r), ERROR_CODE_INTERNAL_ERROR);
}

static void test_resp_errors(void **state)
{
    (void)state;
    struct nsm_response r;
    uint8_t buf[64];
    for (int code = 0; code <= ERROR_CODE_INTERNAL_ERROR; code++) {
        struct cbor_enc e;
        cbor_enc_init(&e, buf, sizeof(buf));
        cbor_put_map(&e, 1);
        cbor_put_text(&e, "Error");
        cbor_put_text(&e, nsm_error_name((ErrorCode)code));
        assert_int_equal(decode(buf, e.len, &r), ERROR_CODE_SUCCESS);
        assert_int_equal(r.kind, NSM_RESP_ERROR);
        assert_int_equal(r.error, code);
    }
    assert_null(nsm_error_name((ErrorCode)9));
    assert_int_equal(nsm_error_from_name(LIT("ReadOnlyIndex")), ERROR_CODE_READ_ONLY_INDEX);
    assert_int_equal(nsm_error_from_name(LIT("readonlyindex")), -1);
    assert_int_equal(decode(LIT("\xa1\x65"
                                "Error\x65"
                                "Bogus"),
                            &r),
                     ERROR_CODE_INTERNAL_ERROR);
    assert_int_equal(decode(LIT("\xa1\x65"
                                "Error\x02"),
                            &r),
                     ERROR_CODE_INTERNAL_ERROR);
}

static void test_resp_malformed(void **state)
{
    (void)state;
    struct nsm_response r;
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
#define BAD(s) {s, sizeof(s) - 1}
        BAD(""),
        BAD("\xff"),
        BAD("\x67LockPCX"), /* unknown unit variant */
        BAD("\x6b"
            "DescribeNSM"),         /* struct variant as a unit */
        BAD("\xa1\x67LockPCR\xf6"), /* unit variant as a map */
        BAD("\xa1\x63"
            "Foo\xa0"),                             /* unknown variant */
        BAD("\xa0"),                                /* empty map */
        BAD("\xa2\x67LockPCR\xa0\x68LockPCRs\xa0"), /* two variants */
        BAD("\xa1\x01\xa0"),                        /* non-text variant name */
        BAD("\x81\x67LockPCR"),                     /* array */
        BAD("\xa1\x69"
            "ExtendPCR\xa0"), /* missing field */
        BAD("\xa1\x69"
            "ExtendPCR\x80"), /* fields not a map */
        BAD("\xa1\x69"
            "ExtendPCR\xa1\x64"
            "data\x61x"), /* text for bytes */
        BAD("\xa1\x69"
            "ExtendPCR\xa2\x64"
            "data\x41x\x64"
            "data\x41y"), /* field given twice */
        BAD("\xa1\x6b"
            "DescribePCR\xa2\x64lock\x01\x64"
            "data\x40"), /* lock not a bool */
        BAD("\xa1\x6b"
            "DescribePCR\xa1\x64"
            "data\x40"), /* lock missing */
        BAD("\xa1\x69"
            "GetRandom\xa1\x66random\x45\x01"), /* truncated */
        BAD("\x67LockPCR\x00"),                 /* trailing byte */
        BAD("\xa1\x6b"
            "Attestation\xa1\x68"
            "document\xf6"), /* null document */
#undef BAD
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (decode((const uint8_t *)bad[i].bytes, bad[i].len, &r) != ERROR_CODE_INTERNAL_ERROR)
            fail_msg("malformed response %zu was accepted", i);
    }
}

/* ---- the API over the fake transport ---- */

static int api_setup(void **state)
{
    (void)state;
    nsm_fake_reset();
    return 0;
}

static void respond(const uint8_t *p, size_t n)
{
    nsm_fake_respond(p, n);
}

static void test_api_describe_pcr(void **state)
{
    (void)state;
    uint8_t data[64];
    uint32_t len = sizeof(data);
    bool lock = false;
    respond(LIT("\xa1\x6b"
                "DescribePCR"
                "\xa2\x64"
                "data" PCR48 "\x64"
                "lock\xf5"));
    assert_int_equal(nsm_describe_pcr(3, 0, &lock, data, &len), ERROR_CODE_SUCCESS);
    assert_true(lock);
    assert_int_equal(len, 48);
    assert_memory_equal(data, "0123456789abcdef0123456789abcdef0123456789abcdef", 48);
    EXPECT_REQ(nsm_fake.request_len, nsm_fake.request,
               "\xa1\x6b"
               "DescribePCR"
               "\xa1\x65"
               "index"
               "\x00");
    /* short buffer: truncated copy and BUFFER_TOO_SMALL */
    memset(data, 0, sizeof(data));
    len = 10;
    assert_int_equal(nsm_describe_pcr(3, 0, &lock, data, &len), ERROR_CODE_BUFFER_TOO_SMALL);
    assert_int_equal(len, 10);
    assert_memory_equal(data, "0123456789\0", 11);
    /* no buffer at all */
    len = 48;
    assert_int_equal(nsm_describe_pcr(3, 0, &lock, NULL, &len), ERROR_CODE_BUFFER_TOO_SMALL);
    assert_int_equal(len, 0);
    /* NULL lock or length: refused before anything is sent */
    int calls = nsm_fake.calls;
    assert_int_equal(nsm_describe_pcr(3, 0, NULL, data, &len), ERROR_CODE_INVALID_ARGUMENT);
    assert_int_equal(nsm_describe_pcr(3, 0, &lock, data, NULL), ERROR_CODE_INVALID_ARGUMENT);
    assert_int_equal(nsm_fake.calls, calls);
}

static void test_api_error_mapping(void **state)
{
    (void)state;
    uint8_t data[48];
    uint32_t len = sizeof(data);
    bool lock;
    /* the device's error */
    respond(LIT("\xa1\x65"
                "Error\x6c"
                "InvalidIndex"));
    assert_int_equal(nsm_describe_pcr(3, 32, &lock, data, &len), ERROR_CODE_INVALID_INDEX);
    respond(LIT("\xa1\x65"
                "Error\x6d"
                "ReadOnlyIndex"));
    assert_int_equal(nsm_lock_pcr(3, 0), ERROR_CODE_READ_ONLY_INDEX);
    respond(LIT("\xa1\x65"
                "Error\x70"
                "InvalidOperation"));
    assert_int_equal(nsm_lock_pcrs(3, 40), ERROR_CODE_INVALID_OPERATION);
    /* "Error: Success" answers nothing */
    respond(LIT("\xa1\x65"
                "Error\x67"
                "Success"));
    assert_int_equal(nsm_lock_pcr(3, 16), ERROR_CODE_INVALID_RESPONSE);
    /* the answer to another request */
    respond(LIT("\x68LockPCRs"));
    assert_int_equal(nsm_lock_pcr(3, 16), ERROR_CODE_INVALID_RESPONSE);
    respond(LIT("\x67LockPCR"));
    assert_int_equal(nsm_lock_pcr(3, 16), ERROR_CODE_SUCCESS);
    assert_int_equal(nsm_describe_pcr(3, 16, &lock, data, &len), ERROR_CODE_INVALID_RESPONSE);
    /* undecodable */
    respond(LIT("\xa1\x65"
                "Error"));
    assert_int_equal(nsm_lock_pcr(3, 16), ERROR_CODE_INTERNAL_ERROR);
    respond(LIT(""));
    assert_int_equal(nsm_lock_pcrs(3, 16), ERROR_CODE_INTERNAL_ERROR);
    /* transport failures pass through */
    nsm_fake.error = ERROR_CODE_INPUT_TOO_LARGE;
    assert_int_equal(nsm_lock_pcr(3, 16), ERROR_CODE_INPUT_TOO_LARGE);
    nsm_fake.error = ERROR_CODE_INTERNAL_ERROR;
    assert_int_equal(nsm_lock_pcr(3, 16), ERROR_CODE_INTERNAL_ERROR);
}

static void test_api_extend(void **state)
{
    (void)state;
    uint8_t out[48];
    uint32_t len = sizeof(out);
    respond(LIT("\xa1\x69"
                "ExtendPCR"
                "\xa1\x64"
                "data" PCR48));
    assert_int_equal(nsm_extend_pcr(3, 16, (const uint8_t *)"abc", 3, out, &len),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(len, 48);
    EXPECT_REQ(nsm_fake.request_len, nsm_fake.request,
               "\xa1\x69"
               "ExtendPCR"
               "\xa2\x65"
               "index"
               "\x10\x64"
               "data"
               "\x43"
               "abc");
    /* empty data is allowed; NULL data is not */
    assert_int_equal(nsm_extend_pcr(3, 16, (const uint8_t *)"", 0, out, &len), ERROR_CODE_SUCCESS);
    int calls = nsm_fake.calls;
    assert_int_equal(nsm_extend_pcr(3, 16, NULL, 0, out, &len), ERROR_CODE_INVALID_ARGUMENT);
    /* over NSM_REQUEST_MAX_SIZE: refused without reaching the transport */
    static uint8_t big[NSM_REQUEST_MAX_SIZE];
    assert_int_equal(nsm_extend_pcr(3, 16, big, sizeof(big), out, &len),
                     ERROR_CODE_INPUT_TOO_LARGE);
    assert_int_equal(nsm_fake.calls, calls);
    /* exactly NSM_REQUEST_MAX_SIZE (27 bytes of CBOR around the data): sent */
    assert_int_equal(nsm_extend_pcr(3, 16, big, NSM_REQUEST_MAX_SIZE - 27, out, &len),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(nsm_fake.request_len, NSM_REQUEST_MAX_SIZE);
}

static void test_api_attestation(void **state)
{
    (void)state;
    uint8_t doc[16];
    uint32_t len = sizeof(doc);
    respond(LIT("\xa1\x6b"
                "Attestation"
                "\xa1\x68"
                "document"
                "\x45\x84\x44\xa1\x01\x38"));
    assert_int_equal(
        nsm_get_attestation_doc(3, NULL, 0, (const uint8_t *)"\x01\x02", 2, NULL, 0, doc, &len),
        ERROR_CODE_SUCCESS);
    assert_int_equal(len, 5);
    assert_memory_equal(doc, "\x84\x44\xa1\x01\x38", 5);
    EXPECT_REQ(nsm_fake.request_len, nsm_fake.request,
               "\xa1\x6b"
               "Attestation"
               "\xa3\x69"
               "user_data"
               "\xf6\x65"
               "nonce"
               "\x42\x01\x02\x6a"
               "public_key"
               "\xf6");
    len = 3;
    assert_int_equal(nsm_get_attestation_doc(3, NULL, 0, NULL, 0, NULL, 0, doc, &len),
                     ERROR_CODE_BUFFER_TOO_SMALL);
    assert_int_equal(len, 3);
    static uint8_t big[2048];
    int calls = nsm_fake.calls;
    len = sizeof(doc);
    assert_int_equal(nsm_get_attestation_doc(3, big, 1024, big, 1024, big, 2048, doc, &len),
                     ERROR_CODE_INPUT_TOO_LARGE);
    assert_int_equal(nsm_fake.calls, calls);
    assert_int_equal(nsm_get_attestation_doc(3, big, 1024, big, 1024, big, 1024, doc, &len),
                     ERROR_CODE_SUCCESS);
    assert_int_equal(nsm_fake.calls, calls + 1);
}

static void test_api_random(void **state)
{
    (void)state;
    uint8_t buf[8];
    size_t len = sizeof(buf);
    respond(LIT("\xa1\x69"
                "GetRandom"
                "\xa1\x66"
                "random"
                "\x4a"
                "0123456789"));
    assert_int_equal(nsm_get_random(3, buf, &len), ERROR_CODE_SUCCESS);
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "01234567", 8);
    EXPECT_REQ(nsm_fake.request_len, nsm_fake.request, "\x69GetRandom");
    uint8_t big[32];
    len = sizeof(big);
    assert_int_equal(nsm_get_random(3, big, &len), ERROR_CODE_SUCCESS);
    assert_int_equal(len, 10); /* fewer than asked for is still a success */
    int calls = nsm_fake.calls;
    len = 0;
    assert_int_equal(nsm_get_random(3, buf, &len), ERROR_CODE_INVALID_ARGUMENT);
    len = 8;
    assert_int_equal(nsm_get_random(-1, buf, &len), ERROR_CODE_INVALID_ARGUMENT);
    assert_int_equal(nsm_get_random(3, NULL, &len), ERROR_CODE_INVALID_ARGUMENT);
    assert_int_equal(nsm_get_random(3, buf, NULL), ERROR_CODE_INVALID_ARGUMENT);
    assert_int_equal(nsm_fake.calls, calls);
}

static void test_api_description(void **state)
{
    (void)state;
    NsmDescription d;
    memset(&d, 0xee, sizeof(d));
    /* locked PCRs out of order and repeated: sorted and made distinct, as a BTreeSet is */
    respond(LIT(DESCRIBE_NSM_HEAD "\x6b"
                                  "locked_pcrs"
                                  "\x85\x03\x01\x02\x01\x00\x66"
                                  "digest\x66"
                                  "SHA384"));
    assert_int_equal(nsm_get_description(3, &d), ERROR_CODE_SUCCESS);
    EXPECT_REQ(nsm_fake.request_len, nsm_fake.request,
               "\x6b"
               "DescribeNSM");
    assert_int_equal(d.version_major, 1);
    assert_int_equal(d.version_minor, 2);
    assert_int_equal(d.version_patch, 256);
    assert_int_equal(d.max_pcrs, 32);
    assert_int_equal(d.digest, DIGEST_SHA384);
    assert_int_equal(d.module_id_len, 13);
    assert_string_equal((const char *)d.module_id, "i-234-enc5678");
    assert_int_equal(d.locked_pcrs_len, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(d.locked_pcrs[i], i);
    assert_int_equal(nsm_get_description(3, NULL), ERROR_CODE_INVALID_ARGUMENT);

    /* a module id of 150 bytes: 99 kept, NUL-terminated; 70 locked PCRs: 64 kept */
    uint8_t buf[512];
    char id[151];
    memset(id, 'm', 150);
    id[150] = 0;
    struct cbor_enc e;
    cbor_enc_init(&e, buf, sizeof(buf));
    cbor_put_map(&e, 1);
    cbor_put_text(&e, "DescribeNSM");
    cbor_put_map(&e, 7);
    cbor_put_text(&e, "digest");
    cbor_put_text(&e, "SHA256");
    cbor_put_text(&e, "locked_pcrs");
    cbor_put_array(&e, 70);
    for (int i = 69; i >= 0; i--)
        cbor_put_uint(&e, (uint64_t)i * 2);
    cbor_put_text(&e, "module_id");
    cbor_put_text(&e, id);
    cbor_put_text(&e, "max_pcrs");
    cbor_put_uint(&e, 140);
    cbor_put_text(&e, "version_major");
    cbor_put_uint(&e, 1);
    cbor_put_text(&e, "version_minor");
    cbor_put_uint(&e, 0);
    cbor_put_text(&e, "version_patch");
    cbor_put_uint(&e, 0);
    assert_true(cbor_enc_ok(&e));
    respond(buf, e.len);
    assert_int_equal(nsm_get_description(3, &d), ERROR_CODE_BUFFER_TOO_SMALL);
    assert_int_equal(d.module_id_len, 99);
    assert_int_equal(strlen((const char *)d.module_id), 99);
    assert_int_equal(d.locked_pcrs_len, 64);
    assert_int_equal(d.locked_pcrs[0], 0);
    assert_int_equal(d.locked_pcrs[63], 126);
    assert_int_equal(d.max_pcrs, 140);
    assert_int_equal(d.digest, DIGEST_SHA256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enc_uint),
        cmocka_unit_test(test_enc_items),
        cmocka_unit_test(test_enc_overflow),
        cmocka_unit_test(test_dec_round_trip),
        cmocka_unit_test(test_dec_scalars),
        cmocka_unit_test(test_dec_truncated),
        cmocka_unit_test(test_dec_lengths),
        cmocka_unit_test(test_dec_unsupported),
        cmocka_unit_test(test_dec_utf8),
        cmocka_unit_test(test_dec_depth),
        cmocka_unit_test(test_dec_trailing),
        cmocka_unit_test(test_map_lookup),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_request_sizes),
        cmocka_unit_test(test_resp_variants),
        cmocka_unit_test(test_resp_describe_nsm),
        cmocka_unit_test(test_resp_errors),
        cmocka_unit_test(test_resp_malformed),
        cmocka_unit_test_setup(test_api_describe_pcr, api_setup),
        cmocka_unit_test_setup(test_api_error_mapping, api_setup),
        cmocka_unit_test_setup(test_api_extend, api_setup),
        cmocka_unit_test_setup(test_api_attestation, api_setup),
        cmocka_unit_test_setup(test_api_random, api_setup),
        cmocka_unit_test_setup(test_api_description, api_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
