/* test_signing.c: EIF signatures reproduce specs/eif.md's V5 vector (CBOR and COSE bytes, PCR8,
 * the signed file), sign-eif appends and replaces correctly, and every bad signature is refused
 * with its own reason. ECDSA uses a random k, so fresh signatures are verified, not compared. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "image/eif.h"
#include "image/eif_build.h"
#include "image/measure.h"
#include "image/signing.h"

#define V2_METADATA                                                                                \
    "{\"ImageName\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":"           \
    "\"2024-01-01T00:00:00+00:00\",\"BuildTool\":\"eif_build\",\"BuildToolVersion\":\"0.2.0\","    \
    "\"OperatingSystem\":\"OS\",\"KernelVersion\":\"kernel\"},\"DockerInfo\":null,"                \
    "\"CustomMetadata\":null}"

#define V2_PCR0                                                                                    \
    "ee32f4bd69ffac7696a0dfa7fddfb7b93236157d8ba83c635e389a5f7eeb4bfffc5af054263fd395d1d612ef51"   \
    "d25a8e"
#define V2_PCR1                                                                                    \
    "1121f5c14dbfb8b4d942763cc6bab3717400266d68778527a8fe1d1ba7af4e82ea4f9391d0d8fec7dc8e05598f"   \
    "b6da1c"
#define V2_PCR2                                                                                    \
    "57c908f2faaef8a69f9318beb295f1ee46f58603c808c3b1ef4609e003f82e7f815c0ab813a477fac470e9abb4"   \
    "ac8a4d"
#define V4_PCR0                                                                                    \
    "71c7c6bc269929df440b6c478ce2002a23a18959ead1c66859cdd9dc41ab802a9c892fc12a6af175c8ddacf325"   \
    "e06670"
#define V5_PCR8                                                                                    \
    "59265657daf1af1a9c1d85ce91b7f1c06805901cbc6c266e7227c040f9958302def01217134c80f2f87dbf37f9"   \
    "b2c980"
/* CBOR PcrInfo{0, V2 PCR0}: serde_cbor's bytes (specs/eif.md 3.1). */
#define V5_PAYLOAD                                                                                 \
    "a26e72656769737465725f696e646578006e72656769737465725f76616c7565983018ee183218f418bd186918"   \
    "ff18ac1876189618a018df18a718fd18df18b718b91832183615187d188b18a8183c1863185e1838189a185f18"   \
    "7e18eb184b18ff18fc185a18f018541826183f18d3189518d118d61218ef185118d2185a188e"
#define V5_RS                                                                                      \
    "a0272836605f521e3d7fb7aaab804f231e52c85e1e349022ccd15831f3417ae4e4a7dc5f531f2fa3bffd8f6d75"   \
    "b426acd494b47446b8aebe41bb12f122f6351fc96c8954f00e8dcbbd86d18644f6e7bac68baafc3e9bc519b4f5"   \
    "f84982271561"

#define NOW_2025 ((time_t)1735689600) /* 2025-01-01, inside the V5 certificate's validity */
#define DAY      86400L

#define BLOB(s) ((struct eif_blob){.data = (const uint8_t *)(s), .size = sizeof(s) - 1})

/* ---- helpers ---- */

static size_t from_hex(const char *hex, uint8_t *out, size_t max)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void digest_hex(const EVP_MD *md, const uint8_t *buf, size_t len, char *out)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    assert_int_equal(EVP_Digest(buf, len, d, &n, md, NULL), 1);
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void assert_pcr(const uint8_t pcr[PCR_SIZE], const char *hex)
{
    char got[PCR_HEX_SIZE];
    pcr_to_hex(pcr, got);
    assert_string_equal(got, hex);
}

static char *read_file(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/eif/%s", TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(65536);
    assert_non_null(buf);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

struct keypair {
    char *cert, *key;
    size_t cert_len, key_len;
};

static char *bio_string(BIO *bio, size_t *len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    assert_true(n > 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    *len = (size_t)n;
    return s;
}

/* A self-signed certificate for key, valid from now + nb to now + na seconds. */
static struct keypair make_keypair(EVP_PKEY *key, long nb, long na, const char *cn)
{
    struct keypair kp;
    X509 *x = X509_new();
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 2), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), nb));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), na));
    X509_NAME *name = X509_get_subject_name(x);
    assert_int_equal(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
        1);
    assert_int_equal(X509_set_issuer_name(x, name), 1);
    assert_int_equal(X509_set_pubkey(x, key), 1);
    assert_true(X509_sign(x, key, EVP_sha384()) > 0);

    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_X509(bio, x), 1);
    kp.cert = bio_string(bio, &kp.cert_len);
    BIO_free(bio);
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL), 1);
    kp.key = bio_string(bio, &kp.key_len);
    BIO_free(bio);
    X509_free(x);
    EVP_PKEY_free(key);
    return kp;
}

static struct keypair new_p384(long nb, long na, const char *cn)
{
    EVP_PKEY *key = EVP_EC_gen("P-384");
    assert_non_null(key);
    return make_keypair(key, nb, na, cn);
}

static struct keypair v5_keypair(void)
{
    struct keypair kp;
    kp.cert = read_file("v5-cert.pem", &kp.cert_len);
    kp.key = read_file("v5-key.pem", &kp.key_len);
    return kp;
}

static void free_keypair(struct keypair *kp)
{
    free(kp->cert);
    free(kp->key);
}

static const struct eif_blob v_ramdisks[2] = {BLOB("BOOTSTRAP-RAMDISK"), BLOB("CUSTOMER-RAMDISK")};

/* V2, with the given signature section (size 0: unsigned). */
static uint8_t *write_v2(const uint8_t *sig, size_t sig_len, size_t *size)
{
    struct eif_contents c = {
        .kernel = BLOB("KERNEL-IMAGE"),
        .cmdline = BLOB("console=ttyS0"),
        .metadata = BLOB(V2_METADATA),
        .ramdisks = v_ramdisks,
        .nramdisks = 2,
        .signature = {.data = sig, .size = sig_len},
    };
    uint8_t *buf = NULL;
    assert_int_equal(eif_write(&c, &buf, size), 0);
    return buf;
}

static void v2_pcr0(uint8_t pcr0[PCR_SIZE])
{
    from_hex(V2_PCR0, pcr0, PCR_SIZE);
}

/* Verifies an image, which must parse, against its own PCR0. */
static enum eif_sig_error verify(const uint8_t *buf, size_t size, time_t now,
                                 struct eif_signature_info *info)
{
    struct eif_image img;
    struct eif_pcrs p;
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    assert_int_equal(eif_measure(&img, &p), 0);
    assert_true(p.has_pcr8);
    return eif_signature_verify(&img, p.pcr0, now, info);
}

/* ---- an independent CBOR writer, as the spec's Python reference ---- */

struct tbuf {
    uint8_t b[16384];
    size_t n;
};

static void t_raw(struct tbuf *t, const void *d, size_t n)
{
    assert_true(t->n + n <= sizeof(t->b));
    memcpy(t->b + t->n, d, n);
    t->n += n;
}

static void t_head(struct tbuf *t, unsigned major, uint64_t v)
{
    uint8_t h[9];
    size_t n;
    if (v < 24) {
        h[0] = (uint8_t)(major << 5 | v);
        n = 1;
    } else if (v < 0x100) {
        h[0] = (uint8_t)(major << 5 | 24), h[1] = (uint8_t)v, n = 2;
    } else {
        assert_true(v < 0x10000);
        h[0] = (uint8_t)(major << 5 | 25), h[1] = (uint8_t)(v >> 8), h[2] = (uint8_t)v, n = 3;
    }
    t_raw(t, h, n);
}

static void t_text(struct tbuf *t, const char *s)
{
    t_head(t, 3, strlen(s));
    t_raw(t, s, strlen(s));
}

static void t_uint_array(struct tbuf *t, const uint8_t *d, size_t n)
{
    t_head(t, 4, n);
    for (size_t i = 0; i < n; i++)
        t_head(t, 0, d[i]);
}

static void t_section(struct tbuf *t, const void *cert, size_t cert_len, const uint8_t *cose,
                      size_t cose_len)
{
    t->n = 0;
    t_raw(t, "\x81\xa2", 2);
    t_text(t, "signing_certificate");
    t_uint_array(t, cert, cert_len);
    t_text(t, "signature");
    t_uint_array(t, cose, cose_len);
}

/* The COSE_Sign1 of V5 with the signature rs. */
static size_t t_cose(uint8_t *out, const uint8_t rs[96])
{
    size_t n = from_hex("8444a1013822a05880", out, 9);
    n += from_hex(V5_PAYLOAD, out + n, 128);
    out[n++] = 0x58;
    out[n++] = 0x60;
    memcpy(out + n, rs, 96);
    return n + 96;
}

/* Splits a signature section written as serde_cbor does into its certificate and COSE bytes. */
static size_t t_read_array(const uint8_t **p, const uint8_t *end, uint8_t *out, size_t max)
{
    size_t n;
    assert_true(end - *p >= 3);
    if (**p == 0x98)
        n = (*p)[1], *p += 2;
    else if (**p == 0x99)
        n = (size_t)((*p)[1] << 8 | (*p)[2]), *p += 3;
    else
        n = **p & 0x1f, *p += 1;
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++) {
        assert_true(*p < end);
        if (**p < 24) {
            out[i] = *(*p)++;
        } else {
            assert_int_equal(**p, 0x18);
            assert_true(end - *p >= 2 && (*p)[1] >= 24); /* minimal encoding */
            out[i] = (*p)[1];
            *p += 2;
        }
    }
    return n;
}

static void t_split(const uint8_t *sec, size_t len, uint8_t *cert, size_t *cert_len, uint8_t *cose,
                    size_t *cose_len)
{
    const uint8_t *p = sec, *end = sec + len;
    assert_true(len > 23);
    assert_memory_equal(p, "\x81\xa2\x73signing_certificate", 22);
    p += 22;
    *cert_len = t_read_array(&p, end, cert, 8192);
    assert_true(end - p > 10);
    assert_memory_equal(p, "\x69signature", 10);
    p += 10;
    *cose_len = t_read_array(&p, end, cose, 1024);
    assert_ptr_equal(p, end);
}

/* ---- tests ---- */

/* V5: PCR8 of the spec's certificate; PEM garbage is refused. */
static void test_v5_pcr8(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    uint8_t pcr[PCR_SIZE];
    assert_int_equal(kp.cert_len, 530);
    assert_int_equal(pcr_of_certificate_pem(kp.cert, kp.cert_len, pcr), 0);
    assert_pcr(pcr, V5_PCR8);
    assert_int_equal(pcr_of_certificate_pem("not a certificate", 17, pcr), -1);
    assert_int_equal(pcr_of_certificate_pem(kp.key, kp.key_len, pcr), -1);
    free_keypair(&kp);
}

/* V5: every deterministic byte of a fresh signature section (payload, protected header, layout)
 * is the spec's, the Sig_structure is the spec's, and the fresh r||s signs that Sig_structure. */
static void test_v5_section_bytes(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    uint8_t pcr0[PCR_SIZE], *sec = NULL, cert[8192], cose[1024], expect[256];
    size_t sec_len, cert_len, cose_len;
    char why[256] = "";
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    v2_pcr0(pcr0);
    assert_int_equal(eif_signature_build(pcr0, kp.cert, kp.cert_len, kp.key, kp.key_len, &sec,
                                         &sec_len, why, sizeof(why)),
                     0);
    t_split(sec, sec_len, cert, &cert_len, cose, &cose_len);
    assert_int_equal(cert_len, kp.cert_len);
    assert_memory_equal(cert, kp.cert, cert_len); /* the PEM verbatim */

    /* COSE_Sign1: 84, bstr(a1013822), a0, bstr(payload: 128 bytes), bstr(r||s: 96 bytes). */
    assert_int_equal(cose_len, 235);
    size_t n = t_cose(expect, cose + 139);
    assert_int_equal(n, 235);
    assert_memory_equal(cose, expect, 235);
    assert_memory_equal(cose + 2, "\xa1\x01\x38\x22", 4);
    assert_memory_equal(cose + 9, "\xa2\x6e", 2);

    /* Byte-identical to the reference encoding of the same parts. */
    struct tbuf *t = malloc(sizeof(*t));
    assert_non_null(t);
    t_section(t, kp.cert, kp.cert_len, cose, cose_len);
    assert_int_equal(t->n, sec_len);
    assert_memory_equal(t->b, sec, sec_len);

    /* Sig_structure ["Signature1", h'a1013822', h'', payload]: 148 bytes, the spec's hash. */
    uint8_t tbs[148];
    size_t tn = from_hex("846a5369676e61747572653144a1013822405880", tbs, sizeof(tbs));
    tn += from_hex(V5_PAYLOAD, tbs + tn, sizeof(tbs) - tn);
    assert_int_equal(tn, 148);
    digest_hex(EVP_sha384(), tbs, tn, hex);
    assert_string_equal(hex,
                        "da33920282b0d3d35502e1d19b09f2cd5ba279f5bb249a1d63a6234cc351ff3827fa62"
                        "9d83182d553f14c68ed3630362");

    /* The fresh r||s is an ECDSA-SHA384 signature of it by the certificate's key (checked
     * here with OpenSSL directly, not through the code under test). */
    BIO *bio = BIO_new_mem_buf(kp.cert, (int)kp.cert_len);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    assert_non_null(x);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    assert_int_equal(
        ECDSA_SIG_set0(sig, BN_bin2bn(cose + 139, 48, NULL), BN_bin2bn(cose + 187, 48, NULL)), 1);
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(sig, &der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, X509_get0_pubkey(x)), 1);
    assert_int_equal(EVP_DigestVerify(md, der, (size_t)der_len, tbs, tn), 1);
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    X509_free(x);
    BIO_free(bio);

    /* eif_signature_certificate gives the PEM back. */
    uint8_t *pem = NULL;
    size_t pem_len = 0;
    assert_int_equal(eif_signature_certificate(sec, sec_len, &pem, &pem_len), 0);
    assert_int_equal(pem_len, kp.cert_len);
    assert_memory_equal(pem, kp.cert, pem_len);
    free(pem);
    free(t);
    free(sec);
    free_keypair(&kp);
}

/* V5 exactly: the section with the spec's r||s, the signed EIF, and that they verify. */
static void test_v5_spec_signature(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    uint8_t rs[96], cose[300];
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    struct tbuf *t = malloc(sizeof(*t));
    assert_non_null(t);
    from_hex(V5_RS, rs, sizeof(rs));
    size_t cose_len = t_cose(cose, rs);
    t_section(t, kp.cert, kp.cert_len, cose, cose_len);
    assert_int_equal(t->n, 1550);
    digest_hex(EVP_sha256(), t->b, t->n, hex);
    assert_string_equal(hex, "e2b93db4a6c70f6dcc8cb36d8642b16692ec47ce41b1a0a71f1f26bbc1d7cc5f");

    size_t size;
    uint8_t *buf = write_v2(t->b, t->n, &size);
    assert_int_equal(size, 2466);
    digest_hex(EVP_sha256(), buf, size, hex);
    assert_string_equal(hex, "380e445547598f136668e9e7316d747b948f3b87b467c91089810e0e031062e7");
    assert_memory_equal(buf + EIF_CRC_OFFSET, "\xf9\x33\xb5\x16", 4);

    struct eif_image img;
    struct eif_pcrs p;
    static const uint64_t offsets[6] = {548, 572, 597, 847, 876, 904};
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    assert_int_equal(img.nsections, 6);
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(img.sections[i].offset, offsets[i]);
    assert_int_equal(img.signature, 5);
    assert_int_equal(eif_measure(&img, &p), 0);
    assert_pcr(p.pcr0, V2_PCR0);
    assert_pcr(p.pcr1, V2_PCR1);
    assert_pcr(p.pcr2, V2_PCR2);
    assert_true(p.has_pcr8);
    assert_pcr(p.pcr8, V5_PCR8);

    struct eif_signature_info info;
    assert_int_equal(eif_signature_verify(&img, p.pcr0, NOW_2025, &info), EIF_SIG_OK);
    assert_true(info.payload_matches);
    assert_string_equal(info.issuer_cn, "eif-spec-test");
    assert_string_equal(info.algorithm, "ecdsa-with-SHA384");
    assert_string_equal(info.not_before, "Jan  1 00:00:00 2024 GMT");
    assert_string_equal(info.not_after, "Jan  1 00:00:00 2034 GMT");
    assert_int_equal(info.not_before_t, 1704067200);
    assert_int_equal(info.not_after_t, 2019686400);
    assert_true(strncmp(info.signature_hex, "30:65:02:31:00:E4:23:01:CF:", 27) == 0);
    assert_int_equal(strlen(info.signature_hex), 103 * 3 - 1);
    free(buf);

    /* The same COSE tagged 18 (d2) is accepted too. */
    uint8_t tagged[301];
    tagged[0] = 0xd2;
    memcpy(tagged + 1, cose, cose_len);
    t_section(t, kp.cert, kp.cert_len, tagged, cose_len + 1);
    buf = write_v2(t->b, t->n, &size);
    assert_int_equal(verify(buf, size, NOW_2025, NULL), EIF_SIG_OK);
    free(buf);

    /* One bit of r flipped: no longer valid. */
    cose[139] ^= 1;
    t_section(t, kp.cert, kp.cert_len, cose, cose_len);
    buf = write_v2(t->b, t->n, &size);
    assert_int_equal(verify(buf, size, NOW_2025, &info), EIF_SIG_BAD);
    free(buf);
    free(t);
    free_keypair(&kp);
}

static void assert_table_consistent(const uint8_t *buf, const struct eif_image *img)
{
    for (unsigned i = 0; i < EIF_MAX_SECTIONS; i++) {
        uint64_t off = 0, sz = 0;
        for (unsigned b = 0; b < 8; b++) {
            off = off << 8 | buf[28 + 8 * i + b];
            sz = sz << 8 | buf[284 + 8 * i + b];
        }
        assert_int_equal(off, i < img->nsections ? img->sections[i].offset : 0);
        assert_int_equal(sz, i < img->nsections ? img->sections[i].size : 0);
    }
}

/* sign-eif on the unsigned V2: the signature is appended as section 5 at 904. */
static void test_sign_image_append(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    size_t size, out_size;
    uint8_t *v2 = write_v2(NULL, 0, &size), *out = NULL;
    char why[256] = "";
    assert_int_equal(eif_sign_image(v2, size, kp.cert, kp.cert_len, kp.key, kp.key_len, &out,
                                    &out_size, why, sizeof(why)),
                     0);
    struct eif_image img;
    struct eif_pcrs p;
    static const uint64_t offsets[6] = {548, 572, 597, 847, 876, 904};
    assert_int_equal(eif_parse(out, out_size, &img), EIF_OK);
    assert_int_equal(img.nsections, 6);
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(img.sections[i].offset, offsets[i]);
    assert_int_equal(img.signature, 5);
    assert_int_equal(img.sections[5].type, EIF_SEC_SIGNATURE);
    assert_int_equal(out_size, 904 + 12 + img.sections[5].size);
    assert_table_consistent(out, &img);
    /* The sections before the signature are untouched. */
    assert_memory_equal(out + 548, v2 + 548, 904 - 548);
    assert_int_equal(eif_measure(&img, &p), 0);
    assert_pcr(p.pcr0, V2_PCR0);
    assert_pcr(p.pcr1, V2_PCR1);
    assert_pcr(p.pcr2, V2_PCR2);
    assert_pcr(p.pcr8, V5_PCR8);
    assert_int_equal(eif_signature_verify(&img, p.pcr0, NOW_2025, NULL), EIF_SIG_OK);
    assert_int_equal(eif_signature_verify(&img, p.pcr0, time(NULL), NULL), EIF_SIG_OK);
    free(out);
    free(v2);
    free_keypair(&kp);
}

/* build-enclave's writer (eif_build.c): written while measured, from pieces, it gives the bytes
 * and PCRs of eif_write and eif_measure; signed, a valid signature over that PCR0. */
static uint8_t *write_measured(const struct eif_sign_request *sign, size_t *size,
                               struct eif_pcrs *p)
{
    static const char part1[] = "CUSTOMER-", part2[] = "RAMDISK";
    const struct iovec iov[2] = {{(void *)part1, 9}, {(void *)part2, 7}};
    const struct eif_blob rds[2] = {BLOB("BOOTSTRAP-RAMDISK"),
                                    {.size = 16, .iov = iov, .iovcnt = 2}};
    struct eif_contents c = {
        .kernel = BLOB("KERNEL-IMAGE"),
        .cmdline = BLOB("console=ttyS0"),
        .metadata = BLOB(V2_METADATA),
        .ramdisks = rds,
        .nramdisks = 2,
    };
    FILE *f = tmpfile();
    assert_non_null(f);
    uint64_t total = 0;
    char why[256] = "";
    assert_int_equal(eif_write_measured(&c, sign, fileno(f), p, &total, why, sizeof(why)), 0);
    uint8_t *buf = malloc(total);
    assert_int_equal(pread(fileno(f), buf, total, 0), (ssize_t)total);
    fclose(f);
    *size = total;
    return buf;
}

static void test_write_measured(void **state)
{
    (void)state;
    size_t size, ref_size;
    struct eif_pcrs p;
    uint8_t *buf = write_measured(NULL, &size, &p);
    uint8_t *ref = write_v2(NULL, 0, &ref_size);
    assert_int_equal(size, ref_size);
    assert_memory_equal(buf, ref, size);
    assert_pcr(p.pcr0, V2_PCR0);
    assert_pcr(p.pcr1, V2_PCR1);
    assert_pcr(p.pcr2, V2_PCR2);
    assert_false(p.has_pcr8);
    free(buf);
    free(ref);

    struct keypair kp = v5_keypair();
    struct eif_sign_request sign = {kp.cert, kp.key, kp.cert_len, kp.key_len};
    buf = write_measured(&sign, &size, &p);
    struct eif_image img;
    struct eif_pcrs q;
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK); /* the CRC included */
    assert_int_equal(eif_measure(&img, &q), 0);
    assert_memory_equal(&p, &q, sizeof(p));
    assert_pcr(p.pcr0, V2_PCR0);
    assert_pcr(p.pcr8, V5_PCR8);
    assert_int_equal(eif_signature_verify(&img, p.pcr0, NOW_2025, NULL), EIF_SIG_OK);
    free(buf);
    free_keypair(&kp);
}

/* sign-eif on a signed file replaces the signature in place, size table included. */
static void test_sign_image_replace(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    struct keypair other = new_p384(-DAY, 365 * DAY, "a much longer common name for re-signing");
    size_t size, size1, size2;
    uint8_t *v2 = write_v2(NULL, 0, &size), *one = NULL, *two = NULL;
    char why[256] = "";
    assert_int_equal(eif_sign_image(v2, size, kp.cert, kp.cert_len, kp.key, kp.key_len, &one,
                                    &size1, why, sizeof(why)),
                     0);
    assert_int_equal(eif_sign_image(one, size1, other.cert, other.cert_len, other.key,
                                    other.key_len, &two, &size2, why, sizeof(why)),
                     0);
    assert_true(size2 > size1);
    struct eif_image img;
    struct eif_pcrs p;
    uint8_t pcr8[PCR_SIZE];
    assert_int_equal(eif_parse(two, size2, &img), EIF_OK);
    assert_int_equal(img.nsections, 6);
    assert_int_equal(img.signature, 5);
    assert_int_equal(img.sections[5].offset, 904);
    assert_table_consistent(two, &img);
    assert_int_equal(eif_measure(&img, &p), 0);
    assert_pcr(p.pcr0, V2_PCR0);
    assert_int_equal(pcr_of_certificate_pem(other.cert, other.cert_len, pcr8), 0);
    assert_memory_equal(p.pcr8, pcr8, PCR_SIZE);
    struct eif_signature_info info;
    assert_int_equal(eif_signature_verify(&img, p.pcr0, time(NULL), &info), EIF_SIG_OK);
    assert_string_equal(info.issuer_cn, "a much longer common name for re-signing");

    /* Back to the V5 key, several times: the r||s encoding length varies, the table follows. */
    for (int i = 0; i < 8; i++) {
        free(one);
        assert_int_equal(eif_sign_image(two, size2, kp.cert, kp.cert_len, kp.key, kp.key_len, &one,
                                        &size1, why, sizeof(why)),
                         0);
        assert_int_equal(eif_parse(one, size1, &img), EIF_OK);
        assert_int_equal(img.nsections, 6);
        assert_table_consistent(one, &img);
        assert_int_equal(verify(one, size1, NOW_2025, NULL), EIF_SIG_OK);
        free(two);
        two = one;
        size2 = size1;
        one = NULL;
    }
    free(one);
    free(two);
    free(v2);
    free_keypair(&kp);
    free_keypair(&other);
}

/* A signature section in the middle of the file: replacing it moves the later sections. */
static void test_sign_image_replace_middle(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    struct keypair other =
        new_p384(-DAY, 365 * DAY, "a common name long enough to make this certificate larger");
    uint8_t pcr0[PCR_SIZE], *sec = NULL, *out = NULL;
    size_t sec_len, out_size;
    char why[256] = "";
    v2_pcr0(pcr0);
    assert_int_equal(eif_signature_build(pcr0, other.cert, other.cert_len, other.key, other.key_len,
                                         &sec, &sec_len, why, sizeof(why)),
                     0);
    /* kernel, cmdline, signature, metadata, rd0, rd1 */
    const struct eif_blob parts[6] = {
        BLOB("KERNEL-IMAGE"), BLOB("console=ttyS0"), {.data = sec, .size = sec_len},
        BLOB(V2_METADATA),    v_ramdisks[0],         v_ramdisks[1]};
    const uint16_t types[6] = {1, 2, 4, 5, 3, 3};
    size_t size = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < 6; i++)
        size += 12 + parts[i].size;
    uint8_t *buf = calloc(1, size);
    assert_non_null(buf);
    memcpy(buf, ".eif\0\4", 6);
    buf[27] = 6;
    size_t pos = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < 6; i++) {
        for (unsigned b = 0; b < 8; b++) {
            buf[28 + 8 * i + b] = (uint8_t)(pos >> (56 - 8 * b));
            buf[284 + 8 * i + b] = (uint8_t)(parts[i].size >> (56 - 8 * b));
            buf[pos + 4 + b] = (uint8_t)(parts[i].size >> (56 - 8 * b));
        }
        buf[pos + 1] = (uint8_t)types[i];
        memcpy(buf + pos + 12, parts[i].data, parts[i].size);
        pos += 12 + parts[i].size;
    }
    eif_update_crc(buf, size);
    assert_int_equal(verify(buf, size, 0, NULL), EIF_SIG_OK);

    assert_int_equal(eif_sign_image(buf, size, kp.cert, kp.cert_len, kp.key, kp.key_len, &out,
                                    &out_size, why, sizeof(why)),
                     0);
    assert_true(out_size < size); /* the V5 certificate is shorter */
    struct eif_image img;
    struct eif_pcrs p;
    assert_int_equal(eif_parse(out, out_size, &img), EIF_OK);
    assert_int_equal(img.signature, 2);
    assert_int_equal(img.metadata, 3);
    assert_table_consistent(out, &img);
    assert_memory_equal(img.sections[3].data, V2_METADATA, strlen(V2_METADATA));
    assert_memory_equal(img.sections[5].data, "CUSTOMER-RAMDISK", 16);
    assert_int_equal(eif_measure(&img, &p), 0);
    assert_pcr(p.pcr0, V2_PCR0);
    assert_pcr(p.pcr8, V5_PCR8);
    assert_int_equal(eif_signature_verify(&img, p.pcr0, NOW_2025, NULL), EIF_SIG_OK);
    free(out);
    free(buf);
    free(sec);
    free_keypair(&kp);
    free_keypair(&other);
}

/* The V5 certificate with a COSE signed by another key: EIF_SIG_BAD. */
static void test_sig_other_key(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    struct keypair other = new_p384(-DAY, 365 * DAY, "eif-spec-test");
    uint8_t pcr0[PCR_SIZE], *sec = NULL, cert[8192], cose[1024];
    size_t sec_len, cert_len, cose_len, size;
    char why[256] = "";
    v2_pcr0(pcr0);
    assert_int_equal(eif_signature_build(pcr0, other.cert, other.cert_len, other.key, other.key_len,
                                         &sec, &sec_len, why, sizeof(why)),
                     0);
    t_split(sec, sec_len, cert, &cert_len, cose, &cose_len);
    struct tbuf *t = malloc(sizeof(*t));
    assert_non_null(t);
    t_section(t, kp.cert, kp.cert_len, cose, cose_len);
    uint8_t *buf = write_v2(t->b, t->n, &size);
    struct eif_signature_info info;
    assert_int_equal(verify(buf, size, NOW_2025, &info), EIF_SIG_BAD);
    assert_string_equal(info.issuer_cn, "eif-spec-test"); /* filled as far as it got */
    assert_false(info.payload_matches);
    free(buf);

    /* Signing with a key that is not the certificate's is refused up front. */
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(eif_signature_build(pcr0, kp.cert, kp.cert_len, other.key, other.key_len, &out,
                                         &out_len, why, sizeof(why)),
                     -1);
    assert_null(out);
    assert_non_null(strstr(why, "does not match"));
    free(t);
    free(sec);
    free_keypair(&kp);
    free_keypair(&other);
}

/* A valid signature over another image's PCR0: EIF_SIG_PCR0. */
static void test_sig_other_pcr0(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    uint8_t pcr0[PCR_SIZE], *sec = NULL;
    size_t sec_len, size;
    char why[256] = "";
    from_hex(V4_PCR0, pcr0, PCR_SIZE);
    assert_int_equal(eif_signature_build(pcr0, kp.cert, kp.cert_len, kp.key, kp.key_len, &sec,
                                         &sec_len, why, sizeof(why)),
                     0);
    uint8_t *buf = write_v2(sec, sec_len, &size);
    struct eif_signature_info info;
    assert_int_equal(verify(buf, size, NOW_2025, &info), EIF_SIG_PCR0);
    assert_false(info.payload_matches);
    /* Against the PCR0 it does sign, it is fine. */
    struct eif_image img;
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    assert_int_equal(eif_signature_verify(&img, pcr0, NOW_2025, &info), EIF_SIG_OK);
    assert_true(info.payload_matches);
    free(buf);
    free(sec);
    free_keypair(&kp);
}

/* A certificate outside its validity: EIF_SIG_EXPIRED, unless dates are not checked. */
static void test_sig_expired(void **state)
{
    (void)state;
    struct keypair expired = new_p384(-2 * DAY, -DAY, "expired");
    struct keypair future = new_p384(DAY, 2 * DAY, "future");
    struct keypair *kps[2] = {&expired, &future};
    size_t size, out_size;
    uint8_t *v2 = write_v2(NULL, 0, &size);
    char why[256] = "";
    for (int i = 0; i < 2; i++) {
        uint8_t *out = NULL;
        assert_int_equal(eif_sign_image(v2, size, kps[i]->cert, kps[i]->cert_len, kps[i]->key,
                                        kps[i]->key_len, &out, &out_size, why, sizeof(why)),
                         0);
        struct eif_signature_info info;
        assert_int_equal(verify(out, out_size, time(NULL), &info), EIF_SIG_EXPIRED);
        assert_true(info.payload_matches);
        assert_int_equal(verify(out, out_size, 0, NULL), EIF_SIG_OK);
        free(out);
    }
    /* The V5 certificate ends on 2034-01-01. */
    struct keypair kp = v5_keypair();
    uint8_t *out = NULL;
    assert_int_equal(eif_sign_image(v2, size, kp.cert, kp.cert_len, kp.key, kp.key_len, &out,
                                    &out_size, why, sizeof(why)),
                     0);
    assert_int_equal(verify(out, out_size, (time_t)2019686400 + 1, NULL), EIF_SIG_EXPIRED);
    assert_int_equal(verify(out, out_size, (time_t)1704067200 - 1, NULL), EIF_SIG_EXPIRED);
    assert_int_equal(verify(out, out_size, (time_t)2019686400, NULL), EIF_SIG_OK);
    free(out);
    free(v2);
    free_keypair(&kp);
    free_keypair(&expired);
    free_keypair(&future);
}

/* Only EC P-384 keys sign; an RSA or P-256 certificate does not verify either. */
static void test_non_p384_refused(void **state)
{
    (void)state;
    struct keypair rsa = make_keypair(EVP_RSA_gen(2048), -DAY, DAY, "rsa");
    struct keypair p256 = make_keypair(EVP_EC_gen("P-256"), -DAY, DAY, "p256");
    struct keypair *kps[2] = {&rsa, &p256};
    uint8_t pcr0[PCR_SIZE], *out = NULL;
    size_t out_len = 0, size;
    char why[256];
    v2_pcr0(pcr0);
    uint8_t *v2 = write_v2(NULL, 0, &size);
    for (int i = 0; i < 2; i++) {
        why[0] = '\0';
        assert_int_equal(eif_signature_build(pcr0, kps[i]->cert, kps[i]->cert_len, kps[i]->key,
                                             kps[i]->key_len, &out, &out_len, why, sizeof(why)),
                         -1);
        assert_null(out);
        assert_non_null(strstr(why, "P-384"));
        assert_true(eif_sign_image(v2, size, kps[i]->cert, kps[i]->cert_len, kps[i]->key,
                                   kps[i]->key_len, &out, &out_len, why, sizeof(why)) < 0);
        assert_null(out);
    }

    /* A section carrying the RSA certificate (with V5's COSE): EIF_SIG_CERTIFICATE. */
    uint8_t rs[96], cose[300];
    from_hex(V5_RS, rs, sizeof(rs));
    size_t cose_len = t_cose(cose, rs);
    struct tbuf *t = malloc(sizeof(*t));
    assert_non_null(t);
    t_section(t, rsa.cert, rsa.cert_len, cose, cose_len);
    uint8_t *buf = write_v2(t->b, t->n, &size);
    struct eif_signature_info info;
    assert_int_equal(verify(buf, size, 0, &info), EIF_SIG_CERTIFICATE);
    assert_string_equal(info.issuer_cn, "rsa");
    assert_string_equal(info.algorithm, "sha384WithRSAEncryption");
    free(buf);
    free(t);
    free(v2);
    free_keypair(&rsa);
    free_keypair(&p256);
}

/* Verifies V2 with the signature section sec; *measured: whether eif_measure could read it. */
static enum eif_sig_error verify_section_m(const uint8_t *sec, size_t len, int *measured)
{
    size_t size;
    uint8_t pcr0[PCR_SIZE];
    struct eif_image img;
    struct eif_pcrs p;
    uint8_t *buf = write_v2(sec, len, &size);
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    v2_pcr0(pcr0);
    enum eif_sig_error err = eif_signature_verify(&img, pcr0, NOW_2025, NULL);
    *measured = eif_measure(&img, &p);
    free(buf);
    return err;
}

/* The same, for a section whose CBOR is broken: PCR8 cannot be computed either. */
static enum eif_sig_error verify_section(const uint8_t *sec, size_t len)
{
    int measured;
    enum eif_sig_error err = verify_section_m(sec, len, &measured);
    assert_int_equal(measured, -1);
    return err;
}

/* Signature sections that are not the CBOR of the spec: EIF_SIG_MALFORMED (or CERTIFICATE). */
static void test_sig_malformed(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    uint8_t rs[96], cose[300];
    from_hex(V5_RS, rs, sizeof(rs));
    size_t cose_len = t_cose(cose, rs);
    struct tbuf *t = malloc(sizeof(*t));
    assert_non_null(t);
    int measured;
    t_section(t, kp.cert, kp.cert_len, cose, cose_len);
    assert_int_equal(verify_section_m(t->b, t->n, &measured), EIF_SIG_OK);
    assert_int_equal(measured, 0);

    struct tbuf *m = malloc(sizeof(*m));
    assert_non_null(m);
    /* Truncated anywhere, or one byte too many. */
    size_t cuts[] = {1, 2, 22, 100, t->n / 2, t->n - 1};
    for (unsigned i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
        assert_int_equal(verify_section(t->b, cuts[i]), EIF_SIG_MALFORMED);
    memcpy(m->b, t->b, t->n);
    m->b[t->n] = 0;
    assert_int_equal(verify_section(m->b, t->n + 1), EIF_SIG_MALFORMED);
    /* Not an array; an empty array; the map's keys misspelt; bytes instead of uint arrays. */
    assert_int_equal(verify_section((const uint8_t *)"\xa0", 1), EIF_SIG_MALFORMED);
    assert_int_equal(verify_section((const uint8_t *)"\x80", 1), EIF_SIG_MALFORMED);
    memcpy(m->b, t->b, t->n);
    m->b[3] = 'S';
    assert_int_equal(verify_section(m->b, t->n), EIF_SIG_MALFORMED);
    m->n = 0;
    t_raw(m, "\x81\xa2", 2);
    t_text(m, "signing_certificate");
    t_head(m, 2, kp.cert_len);
    t_raw(m, kp.cert, kp.cert_len);
    t_text(m, "signature");
    t_uint_array(m, cose, cose_len);
    assert_int_equal(verify_section(m->b, m->n), EIF_SIG_MALFORMED);
    /* An indefinite-length outer array. */
    memcpy(m->b, t->b, t->n);
    m->b[0] = 0x9f;
    m->b[t->n] = 0xff;
    assert_int_equal(verify_section(m->b, t->n + 1), EIF_SIG_MALFORMED);
    /* The COSE is not a COSE_Sign1 (three elements). */
    uint8_t bad_cose[300];
    memcpy(bad_cose, cose, cose_len);
    bad_cose[0] = 0x83;
    t_section(m, kp.cert, kp.cert_len, bad_cose, cose_len);
    assert_int_equal(verify_section_m(m->b, m->n, &measured), EIF_SIG_MALFORMED);
    assert_int_equal(measured, 0); /* the certificate, and so PCR8, is still readable */
    /* A tag other than 18. */
    bad_cose[0] = 0xd1;
    memcpy(bad_cose + 1, cose, cose_len);
    t_section(m, kp.cert, kp.cert_len, bad_cose, cose_len + 1);
    assert_int_equal(verify_section_m(m->b, m->n, &measured), EIF_SIG_MALFORMED);
    /* The protected header says ES256 (-7): a1 01 26, then a stray byte. */
    memcpy(bad_cose, cose, cose_len);
    bad_cose[4] = 0x26;
    bad_cose[5] = 0x00;
    t_section(m, kp.cert, kp.cert_len, bad_cose, cose_len);
    assert_int_equal(verify_section_m(m->b, m->n, &measured), EIF_SIG_BAD);
    /* The certificate is not a certificate. */
    t_section(m, "hello", 5, cose, cose_len);
    assert_int_equal(verify_section_m(m->b, m->n, &measured), EIF_SIG_CERTIFICATE);
    assert_int_equal(measured, -1);

    /* An unsigned image has nothing to verify. */
    size_t size;
    struct eif_image img;
    uint8_t pcr0[PCR_SIZE];
    uint8_t *buf = write_v2(NULL, 0, &size);
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    v2_pcr0(pcr0);
    assert_int_equal(eif_signature_verify(&img, pcr0, 0, NULL), EIF_SIG_MALFORMED);
    free(buf);
    free(m);
    free(t);
    free_keypair(&kp);
}

static void test_sig_strerror_distinct(void **state)
{
    (void)state;
    for (int i = EIF_SIG_OK; i <= EIF_SIG_EXPIRED; i++) {
        const char *a = eif_sig_strerror((enum eif_sig_error)i);
        assert_non_null(a);
        assert_true(strlen(a) > 0);
        for (int j = EIF_SIG_OK; j < i; j++)
            assert_string_not_equal(a, eif_sig_strerror((enum eif_sig_error)j));
    }
}

/* sign-eif refuses what is not an EIF, and bad key material, with a reason. */
static void test_sign_image_refusals(void **state)
{
    (void)state;
    struct keypair kp = v5_keypair();
    size_t size, out_size = 0;
    uint8_t *v2 = write_v2(NULL, 0, &size), *out = NULL;
    char why[256] = "";
    v2[700] ^= 1; /* in the metadata: a CRC mismatch */
    assert_true(eif_sign_image(v2, size, kp.cert, kp.cert_len, kp.key, kp.key_len, &out, &out_size,
                               why, sizeof(why)) < 0);
    assert_null(out);
    assert_non_null(strstr(why, "CRC"));
    v2[700] ^= 1;
    assert_true(eif_sign_image(v2, size, kp.key, kp.key_len, kp.key, kp.key_len, &out, &out_size,
                               why, sizeof(why)) < 0);
    assert_non_null(strstr(why, "certificate"));
    assert_true(eif_sign_image(v2, size, kp.cert, kp.cert_len, kp.cert, kp.cert_len, &out,
                               &out_size, why, sizeof(why)) < 0);
    assert_non_null(strstr(why, "private key"));
    assert_null(out);
    free(v2);
    free_keypair(&kp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v5_pcr8),
        cmocka_unit_test(test_v5_section_bytes),
        cmocka_unit_test(test_v5_spec_signature),
        cmocka_unit_test(test_sign_image_append),
        cmocka_unit_test(test_write_measured),
        cmocka_unit_test(test_sign_image_replace),
        cmocka_unit_test(test_sign_image_replace_middle),
        cmocka_unit_test(test_sig_other_key),
        cmocka_unit_test(test_sig_other_pcr0),
        cmocka_unit_test(test_sig_expired),
        cmocka_unit_test(test_non_p384_refused),
        cmocka_unit_test(test_sig_malformed),
        cmocka_unit_test(test_sig_strerror_distinct),
        cmocka_unit_test(test_sign_image_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
