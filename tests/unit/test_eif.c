/* test_eif.c: the EIF reader, writer, CRC, PCRs and metadata reproduce specs/eif.md's vectors
 * V1-V4 byte for byte, and the strict parser refuses each broken file with its own reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "image/eif.h"
#include "image/measure.h"
#include "image/metadata.h"

#define V2_METADATA                                                                                \
    "{\"ImageName\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":"           \
    "\"2024-01-01T00:00:00+00:00\",\"BuildTool\":\"eif_build\",\"BuildToolVersion\":\"0.2.0\","    \
    "\"OperatingSystem\":\"OS\",\"KernelVersion\":\"kernel\"},\"DockerInfo\":null,"                \
    "\"CustomMetadata\":null}"

#define PCR_EMPTY                                                                                  \
    "21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964"   \
    "fc500a"
#define V2_PCR0                                                                                    \
    "ee32f4bd69ffac7696a0dfa7fddfb7b93236157d8ba83c635e389a5f7eeb4bfffc5af054263fd395d1d612ef51"   \
    "d25a8e"
#define V2_PCR1                                                                                    \
    "1121f5c14dbfb8b4d942763cc6bab3717400266d68778527a8fe1d1ba7af4e82ea4f9391d0d8fec7dc8e05598f"   \
    "b6da1c"
#define V2_PCR2                                                                                    \
    "57c908f2faaef8a69f9318beb295f1ee46f58603c808c3b1ef4609e003f82e7f815c0ab813a477fac470e9abb4"   \
    "ac8a4d"

/* A string literal where the metadata struct wants char * (it is only read). */
#define S(lit) ((char *)(uintptr_t)(lit))

#define BLOB(s) ((struct eif_blob){.data = (const uint8_t *)(s), .size = sizeof(s) - 1})

static const struct eif_blob v_ramdisks[3] = {BLOB("BOOTSTRAP-RAMDISK"), BLOB("CUSTOMER-RAMDISK"),
                                              BLOB("CUSTOMER-RAMDISK-2")};

/* The spec's inputs with the first n ramdisks (V3: 1, V2: 2, V4: 3). */
static struct eif_contents v_contents(unsigned n)
{
    return (struct eif_contents){
        .kernel = BLOB("KERNEL-IMAGE"),
        .cmdline = BLOB("console=ttyS0"),
        .metadata = BLOB(V2_METADATA),
        .ramdisks = v_ramdisks,
        .nramdisks = n,
    };
}

static uint8_t *write_v(unsigned n, size_t *size)
{
    struct eif_contents c = v_contents(n);
    uint8_t *buf = NULL;
    assert_int_equal(eif_write(&c, &buf, size), 0);
    assert_non_null(buf);
    return buf;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    while (n--)
        v = v << 8 | *p++;
    return v;
}

static void set_be(uint8_t *p, unsigned n, uint64_t v)
{
    while (n--) {
        p[n] = (uint8_t)v;
        v >>= 8;
    }
}

static void sha256_hex(const uint8_t *buf, size_t len, char out[65])
{
    uint8_t d[32];
    unsigned n = 0;
    assert_int_equal(EVP_Digest(buf, len, d, &n, EVP_sha256(), NULL), 1);
    for (unsigned i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void assert_pcr(const uint8_t pcr[PCR_SIZE], const char *hex)
{
    char got[PCR_HEX_SIZE];
    pcr_to_hex(pcr, got);
    assert_string_equal(got, hex);
}

/* An EIF built independently of eif_write, as the spec's Python does, with sections in any
 * order and of any type. */
struct raw_sec {
    uint16_t type;
    const char *data;
};

static uint8_t *build_raw(const struct raw_sec *secs, unsigned n, size_t *size)
{
    size_t total = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < n; i++)
        total += EIF_SECTION_HEADER_SIZE + strlen(secs[i].data);
    uint8_t *buf = calloc(1, total);
    assert_non_null(buf);
    memcpy(buf, ".eif", 4);
    set_be(buf + 4, 2, 4);
    set_be(buf + 8, 8, 1ull << 30);
    set_be(buf + 16, 8, 2);
    set_be(buf + 26, 2, n);
    size_t pos = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < n; i++) {
        size_t len = strlen(secs[i].data);
        set_be(buf + 28 + 8 * i, 8, pos);
        set_be(buf + 284 + 8 * i, 8, len);
        set_be(buf + pos, 2, secs[i].type);
        set_be(buf + pos + 4, 8, len);
        memcpy(buf + pos + 12, secs[i].data, len);
        pos += 12 + len;
    }
    eif_update_crc(buf, total);
    *size = total;
    return buf;
}

static enum eif_error parse(const uint8_t *buf, size_t size)
{
    struct eif_image img;
    return eif_parse(buf, size, &img);
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(eif_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(eif_crc32(eif_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    assert_int_equal(eif_crc32(0, "", 0), 0);
}

/* A launch's own command line and environment extend PCR0 and PCR2 (vectors from Python's
 * hashlib, docs/attestation.md); PCR1 and PCR8 stay; a launch with neither changes nothing. */
static void test_launch_measure(void **state)
{
    (void)state;
    struct eif_pcrs p, orig;
    for (int i = 0; i < PCR_SIZE; i++)
        p.pcr0[i] = p.pcr1[i] = p.pcr2[i] = p.pcr8[i] = (uint8_t)i;
    orig = p;
    char a0[] = "/a", a1[] = "b", e0[] = "K=V";
    char *argv[] = {a0, a1}, *envp[] = {e0};
    assert_int_equal(pcr_measure_launch(&p, argv, 0, envp, 0, NULL, 0), 0);
    assert_memory_equal(&p, &orig, sizeof(p));
    assert_int_equal(pcr_measure_launch(&p, argv, 2, envp, 1, NULL, 0), 0);
    const char *want = "87a78f70770bc9fad69af1f744b37d93dcb6b54acf9fc11989b9b138c53295920136ac9b"
                       "2cd5e20334e83120a09ba29b";
    assert_pcr(p.pcr0, want);
    assert_pcr(p.pcr2, want);
    assert_memory_equal(p.pcr1, orig.pcr1, PCR_SIZE);
    assert_memory_equal(p.pcr8, orig.pcr8, PCR_SIZE);
    p = orig;
    assert_int_equal(pcr_measure_launch(&p, NULL, 0, envp, 1, NULL, 0), 0);
    assert_pcr(p.pcr0, "f1dec639af3ed124d8260d2672d9398b809395677689b15a4e476712086bae48a31b2a598f"
                       "c65f7758cb850f479a4077");
    /* an option alone (--log-level trace) */
    p = orig;
    const char *opts[] = {"log-level=trace"};
    assert_int_equal(pcr_measure_launch(&p, NULL, 0, NULL, 0, opts, 1), 0);
    assert_pcr(p.pcr2, "1e5af905d13dc03d7b737e7891ea77cfd3d3bc3d5127b8eef8a243b57028cb0d29d497a168"
                       "a3d4bd5bca004640287f51");
}

/* V1: pcr() of the empty input and of "abc"; pcr_to_hex is lowercase. */
static void test_v1_pcr_of_bytes(void **state)
{
    (void)state;
    uint8_t pcr[PCR_SIZE];
    pcr_of_bytes("", 0, pcr);
    assert_pcr(pcr, PCR_EMPTY);
    pcr_of_bytes("abc", 3, pcr);
    assert_pcr(pcr, "93732e3733514a841c982cfa75ea76ab55fe011acb9cd980ef4523913c65be1b0998e04d77f8c1"
                    "74f81a82151619ca40");
}

/* V2: the unsigned v4 EIF, byte for byte, and its measurements. */
static void test_v2_unsigned(void **state)
{
    (void)state;
    /* 2e656966 0004 0000 0000000040000000 0000000000000002 0000 0005 */
    static const uint8_t head[28] = {0x2e, 0x65, 0x69, 0x66, 0, 4, 0, 0, 0, 0, 0, 0, 0x40, 0,
                                     0,    0,    0,    0,    0, 0, 0, 0, 0, 2, 0, 0, 0,    5};
    static const uint64_t offsets[5] = {548, 572, 597, 847, 876};
    static const uint64_t sizes[5] = {12, 13, 238, 17, 16};
    static const uint16_t types[5] = {1, 2, 5, 3, 3};
    size_t size;
    char sha[65];
    uint8_t *buf = write_v(2, &size);

    assert_int_equal(strlen(V2_METADATA), 238);
    assert_memory_equal(buf, head, sizeof(head));
    for (unsigned i = 0; i < 32; i++) {
        assert_int_equal(be(buf + 28 + 8 * i, 8), i < 5 ? offsets[i] : 0);
        assert_int_equal(be(buf + 284 + 8 * i, 8), i < 5 ? sizes[i] : 0);
    }
    assert_int_equal(size, 904);
    sha256_hex(buf, size, sha);
    assert_string_equal(sha, "69788edd39de2cef9b44170b3a11ce108e28d0ed4c549e832f9f85c3a3032b93");
    assert_int_equal(be(buf + EIF_CRC_OFFSET, 4), 0x907699b3u);

    struct eif_image img;
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    assert_int_equal(img.version, 4);
    assert_int_equal(img.flags, 0);
    assert_int_equal(img.default_mem, 1ull << 30);
    assert_int_equal(img.default_cpus, 2);
    assert_int_equal(img.nsections, 5);
    assert_int_equal(img.crc_stored, 0x907699b3u);
    assert_int_equal(img.crc_computed, 0x907699b3u);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(img.sections[i].type, types[i]);
        assert_int_equal(img.sections[i].offset, offsets[i]);
        assert_int_equal(img.sections[i].size, sizes[i]);
        assert_ptr_equal(img.sections[i].data, buf + offsets[i] + 12);
    }
    assert_int_equal(img.kernel, 0);
    assert_int_equal(img.cmdline, 1);
    assert_int_equal(img.metadata, 2);
    assert_int_equal(img.signature, -1);
    assert_int_equal(img.nramdisks, 2);
    assert_int_equal(img.ramdisks[0], 3);
    assert_int_equal(img.ramdisks[1], 4);
    assert_memory_equal(img.sections[2].data, V2_METADATA, 238);

    struct eif_pcrs p;
    assert_int_equal(eif_measure(&img, &p), 0);
    assert_pcr(p.pcr0, V2_PCR0);
    assert_pcr(p.pcr1, V2_PCR1);
    assert_pcr(p.pcr2, V2_PCR2);
    assert_false(p.has_pcr8);

    /* The same bytes as the spec's reference builder. */
    static const struct raw_sec secs[5] = {{1, "KERNEL-IMAGE"},
                                           {2, "console=ttyS0"},
                                           {5, V2_METADATA},
                                           {3, "BOOTSTRAP-RAMDISK"},
                                           {3, "CUSTOMER-RAMDISK"}};
    size_t rsize;
    uint8_t *raw = build_raw(secs, 5, &rsize);
    assert_int_equal(rsize, size);
    assert_memory_equal(raw, buf, size);
    free(raw);
    free(buf);
}

/* V3: one ramdisk; PCR0 = PCR1 and PCR2 is pcr() of nothing. */
static void test_v3_one_ramdisk(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(1, &size);
    struct eif_image img;
    struct eif_pcrs p;
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    assert_int_equal(be(buf + EIF_CRC_OFFSET, 4), 0x097261eau);
    assert_int_equal(eif_measure(&img, &p), 0);
    assert_pcr(p.pcr0, V2_PCR1);
    assert_pcr(p.pcr1, V2_PCR1);
    assert_pcr(p.pcr2, PCR_EMPTY);
    free(buf);
}

/* V4: three ramdisks; PCR2 = pcr(rd1 || rd2). */
static void test_v4_three_ramdisks(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(3, &size);
    struct eif_image img;
    struct eif_pcrs p;
    uint8_t both[PCR_SIZE];
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    assert_int_equal(be(buf + EIF_CRC_OFFSET, 4), 0xc9903411u);
    assert_int_equal(eif_measure(&img, &p), 0);
    assert_pcr(p.pcr0, "71c7c6bc269929df440b6c478ce2002a23a18959ead1c66859cdd9dc41ab802a9c892fc12a"
                       "6af175c8ddacf325e06670");
    assert_pcr(p.pcr1, V2_PCR1);
    assert_pcr(p.pcr2, "221282c1239184fd864fe08eb4df89867b869e45442704a0c6dd49059b23d41847337e2f39"
                       "3431c0a165c52381c63f93");
    pcr_of_bytes("CUSTOMER-RAMDISKCUSTOMER-RAMDISK-2", 34, both);
    assert_memory_equal(p.pcr2, both, PCR_SIZE);
    free(buf);
}

/* write -> parse gives back the same sections, including empty ones and the maximum count. */
static void test_write_parse_roundtrip(void **state)
{
    (void)state;
    struct eif_blob rds[31];
    char names[31][16];
    for (unsigned i = 0; i < 31; i++) {
        snprintf(names[i], sizeof(names[i]), "ramdisk-%u", i);
        rds[i] = (struct eif_blob){.data = (const uint8_t *)names[i],
                                   .size = i == 7 ? 0 : strlen(names[i])};
    }
    struct eif_contents c = {
        .kernel = BLOB("\177ELF-kernel"),
        .cmdline = {NULL, 0},
        .metadata = BLOB("{}"),
        .ramdisks = rds,
        .nramdisks = 28,
        .signature = BLOB("SIG"),
    };
    uint8_t *buf = NULL;
    size_t size = 0;
    struct eif_image img;
    assert_int_equal(eif_write(&c, &buf, &size), 0);
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    assert_int_equal(img.nsections, 32);
    assert_int_equal(img.kernel, 0);
    assert_int_equal(img.cmdline, 1);
    assert_int_equal(img.metadata, 2);
    assert_int_equal(img.signature, 31);
    assert_int_equal(img.sections[img.cmdline].size, 0);
    assert_memory_equal(img.sections[0].data, "\177ELF-kernel", 11);
    assert_memory_equal(img.sections[31].data, "SIG", 3);
    assert_int_equal(img.nramdisks, 28);
    for (unsigned i = 0; i < 28; i++) {
        const struct eif_section *s = &img.sections[img.ramdisks[i]];
        assert_int_equal(s->type, EIF_SEC_RAMDISK);
        assert_int_equal(img.ramdisks[i], 3 + i);
        assert_int_equal(s->size, rds[i].size);
        assert_memory_equal(s->data, rds[i].data, rds[i].size);
    }
    free(buf);
    c.nramdisks = 29; /* 33 sections */
    assert_int_equal(eif_write(&c, &buf, &size), -EINVAL);

    /* Without metadata and signature there is room for 30 ramdisks, not 31. */
    c.metadata = c.signature = (struct eif_blob){.data = NULL};
    c.nramdisks = 30;
    assert_int_equal(eif_write(&c, &buf, &size), 0);
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    assert_int_equal(img.nsections, 32);
    assert_int_equal(img.metadata, -1);
    free(buf);
    c.nramdisks = 31;
    assert_int_equal(eif_write(&c, &buf, &size), -EINVAL);
    assert_null(buf);
    c.nramdisks = 0;
    assert_int_equal(eif_write(&c, &buf, &size), -EINVAL);
}

/* Sections in any order are accepted, and their indexes recorded. */
static void test_parse_any_order(void **state)
{
    (void)state;
    static const struct raw_sec secs[6] = {{3, "RD0"},      {5, "{}"},  {2, "cmdline"},
                                           {4, "SIGBYTES"}, {3, "RD1"}, {1, "KERNEL"}};
    size_t size;
    uint8_t *buf = build_raw(secs, 6, &size);
    struct eif_image img;
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    assert_int_equal(img.kernel, 5);
    assert_int_equal(img.cmdline, 2);
    assert_int_equal(img.metadata, 1);
    assert_int_equal(img.signature, 3);
    assert_int_equal(img.nramdisks, 2);
    assert_int_equal(img.ramdisks[0], 0);
    assert_int_equal(img.ramdisks[1], 4);
    free(buf);
}

/* A flipped bit anywhere the CRC covers, without other damage, is EIF_ERR_CRC. */
static void test_fail_crc(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(2, &size);
    struct eif_image img;
    assert_int_equal(eif_parse(buf, size, &img), EIF_OK);
    for (unsigned i = 0; i < img.nsections; i++) {
        size_t at = (size_t)img.sections[i].offset + 12 + img.sections[i].size / 2;
        buf[at] ^= 0x20;
        assert_int_equal(parse(buf, size), EIF_ERR_CRC);
        buf[at] ^= 0x20;
        assert_int_equal(parse(buf, size), EIF_OK);
    }
    size_t header_bytes[] = {8, 20, 0x18, 0x21c, EIF_CRC_OFFSET, EIF_CRC_OFFSET + 3};
    for (unsigned i = 0; i < sizeof(header_bytes) / sizeof(header_bytes[0]); i++) {
        buf[header_bytes[i]] ^= 1;
        assert_int_equal(parse(buf, size), EIF_ERR_CRC);
        buf[header_bytes[i]] ^= 1;
    }
    free(buf);
}

static void test_fail_truncated(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(2, &size);
    size_t cuts[] = {0, 4, 100, 547, 548, 559, 572 + 11, 876 + 1};
    for (unsigned i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
        assert_int_equal(parse(buf, cuts[i]), EIF_ERR_TRUNCATED);
    free(buf);
}

static void test_fail_bounds(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(2, &size);
    /* Cut inside the last ramdisk's data. */
    assert_int_equal(parse(buf, size - 1), EIF_ERR_BOUNDS);
    assert_int_equal(parse(buf, 876 + 12), EIF_ERR_BOUNDS);
    /* The last section claims more than the file has (table and section header agree). */
    set_be(buf + 284 + 8 * 4, 8, 17);
    set_be(buf + 876 + 4, 8, 17);
    eif_update_crc(buf, size);
    assert_int_equal(parse(buf, size), EIF_ERR_BOUNDS);
    /* A size so large that offset + size would wrap. */
    set_be(buf + 284 + 8 * 4, 8, UINT64_MAX - 4);
    set_be(buf + 876 + 4, 8, UINT64_MAX - 4);
    eif_update_crc(buf, size);
    assert_int_equal(parse(buf, size), EIF_ERR_BOUNDS);
    free(buf);
}

static void test_fail_header_fields(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(2, &size);
    uint8_t *m = malloc(size);
    assert_non_null(m);

    memcpy(m, buf, size);
    m[3] = 'F';
    eif_update_crc(m, size);
    assert_int_equal(parse(m, size), EIF_ERR_MAGIC);

    const uint16_t versions[] = {0, 3, 5, 0x0400};
    for (unsigned i = 0; i < 4; i++) {
        memcpy(m, buf, size);
        set_be(m + 4, 2, versions[i]);
        eif_update_crc(m, size);
        assert_int_equal(parse(m, size), EIF_ERR_VERSION);
    }

    const uint16_t flags[] = {EIF_FLAG_ARM64, 2, 0x8000};
    for (unsigned i = 0; i < 3; i++) {
        memcpy(m, buf, size);
        set_be(m + 6, 2, flags[i]);
        eif_update_crc(m, size);
        assert_int_equal(parse(m, size), EIF_ERR_FLAGS);
    }

    const uint16_t counts[] = {0, 33, 0xffff};
    for (unsigned i = 0; i < 3; i++) {
        memcpy(m, buf, size);
        set_be(m + 26, 2, counts[i]);
        eif_update_crc(m, size);
        assert_int_equal(parse(m, size), EIF_ERR_NSECTIONS);
    }
    free(m);
    free(buf);
}

/* Thirty-three real sections: the count is refused, whatever follows. */
static void test_fail_33_sections(void **state)
{
    (void)state;
    struct raw_sec secs[33];
    secs[0] = (struct raw_sec){1, "K"};
    secs[1] = (struct raw_sec){2, "C"};
    for (unsigned i = 2; i < 33; i++)
        secs[i] = (struct raw_sec){3, "R"};
    size_t size;
    uint8_t *buf = build_raw(secs, 32, &size);
    assert_int_equal(parse(buf, size), EIF_OK);
    free(buf);
    buf = build_raw(secs, 33, &size); /* its table's 33rd entries overwrite the unused field */
    assert_int_equal(parse(buf, size), EIF_ERR_NSECTIONS);
    free(buf);
}

static void test_fail_table(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(2, &size);
    uint8_t *m = malloc(size + 4);
    assert_non_null(m);

    /* A 4-byte gap between the cmdline and the metadata, the table pointing past it. */
    memcpy(m, buf, 597);
    memset(m + 597, 0, 4);
    memcpy(m + 601, buf + 597, size - 597);
    for (unsigned i = 2; i < 5; i++)
        set_be(m + 28 + 8 * i, 8, be(buf + 28 + 8 * i, 8) + 4);
    eif_update_crc(m, size + 4);
    assert_int_equal(parse(m, size + 4), EIF_ERR_TABLE);

    /* An offset that does not point at the section. */
    memcpy(m, buf, size);
    set_be(m + 28 + 8 * 3, 8, 848);
    eif_update_crc(m, size);
    assert_int_equal(parse(m, size), EIF_ERR_TABLE);

    /* Two table entries swapped. */
    memcpy(m, buf, size);
    set_be(m + 28 + 8 * 3, 8, 876);
    set_be(m + 28 + 8 * 4, 8, 847);
    eif_update_crc(m, size);
    assert_int_equal(parse(m, size), EIF_ERR_TABLE);

    /* A table size that disagrees with the section header. */
    memcpy(m, buf, size);
    set_be(m + 284 + 8 * 1, 8, 12);
    eif_update_crc(m, size);
    assert_int_equal(parse(m, size), EIF_ERR_TABLE);

    /* A section header size that disagrees with the table (the layout moves with it). */
    memcpy(m, buf, size);
    set_be(m + 572 + 4, 8, 12);
    eif_update_crc(m, size);
    assert_int_equal(parse(m, size), EIF_ERR_TABLE);

    /* Unused slots must be zero: offset, then size. */
    memcpy(m, buf, size);
    set_be(m + 28 + 8 * 5, 8, 904);
    eif_update_crc(m, size);
    assert_int_equal(parse(m, size), EIF_ERR_TABLE);
    memcpy(m, buf, size);
    m[284 + 8 * 31 + 7] = 1;
    eif_update_crc(m, size);
    assert_int_equal(parse(m, size), EIF_ERR_TABLE);
    free(m);
    free(buf);
}

static void test_fail_section_header(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(2, &size);
    const uint16_t types[] = {0, 6, 0xffff};
    for (unsigned i = 0; i < 3; i++) {
        set_be(buf + 847, 2, types[i]);
        eif_update_crc(buf, size);
        assert_int_equal(parse(buf, size), EIF_ERR_SECTION_TYPE);
    }
    set_be(buf + 847, 2, EIF_SEC_RAMDISK);
    set_be(buf + 847 + 2, 2, 1);
    eif_update_crc(buf, size);
    assert_int_equal(parse(buf, size), EIF_ERR_SECTION_FLAGS);
    set_be(buf + 847 + 2, 2, 0);
    eif_update_crc(buf, size);
    assert_int_equal(parse(buf, size), EIF_OK);
    free(buf);
}

static void test_fail_duplicate_and_missing(void **state)
{
    (void)state;
    struct {
        struct raw_sec secs[5];
        unsigned n;
        enum eif_error want;
    } cases[] = {
        {{{1, "K"}, {2, "C"}, {3, "R"}, {1, "K2"}}, 4, EIF_ERR_DUPLICATE},
        {{{1, "K"}, {2, "C"}, {2, "C2"}, {3, "R"}}, 4, EIF_ERR_DUPLICATE},
        {{{1, "K"}, {2, "C"}, {5, "{}"}, {3, "R"}, {5, "{}"}}, 5, EIF_ERR_DUPLICATE},
        {{{1, "K"}, {2, "C"}, {3, "R"}, {4, "S"}, {4, "S"}}, 5, EIF_ERR_DUPLICATE},
        {{{2, "C"}, {3, "R"}}, 2, EIF_ERR_MISSING},
        {{{1, "K"}, {3, "R"}, {3, "R"}}, 3, EIF_ERR_MISSING},
        {{{1, "K"}, {2, "C"}, {5, "{}"}}, 3, EIF_ERR_MISSING},
        {{{1, "K"}, {2, "C"}, {3, "R"}}, 3, EIF_OK},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t size;
        uint8_t *buf = build_raw(cases[i].secs, cases[i].n, &size);
        assert_int_equal(parse(buf, size), cases[i].want);
        free(buf);
    }
}

static void test_fail_trailing(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(2, &size);
    uint8_t *m = calloc(1, size + 12);
    assert_non_null(m);
    memcpy(m, buf, size);
    assert_int_equal(parse(m, size + 1), EIF_ERR_TRAILING);
    /* A whole extra section header (type 3, size 0) that the table does not list. */
    m[size + 1] = 3;
    assert_int_equal(parse(m, size + 12), EIF_ERR_TRAILING);
    free(m);
    free(buf);
}

/* A Linux bzImage kernel ("HdrS" at 0x202) is valid EIF but not for alcove. */
static void test_fail_linux_kernel(void **state)
{
    (void)state;
    static uint8_t kernel[0x400];
    memset(kernel, 0xcc, sizeof(kernel));
    memcpy(kernel + 0x202, "HdrS", 4);
    struct eif_contents c = v_contents(2);
    c.kernel = (struct eif_blob){.data = kernel, .size = sizeof(kernel)};
    uint8_t *buf;
    size_t size;
    assert_int_equal(eif_write(&c, &buf, &size), 0);
    assert_int_equal(parse(buf, size), EIF_ERR_LINUX_KERNEL);
    free(buf);

    /* The magic cut off by the end of the section, or an ELF: fine. */
    c.kernel.size = 0x205;
    assert_int_equal(eif_write(&c, &buf, &size), 0);
    assert_int_equal(parse(buf, size), EIF_OK);
    free(buf);
    memcpy(kernel, "\177ELF", 4);
    memcpy(kernel + 0x202, "ELF!", 4);
    c.kernel.size = sizeof(kernel);
    assert_int_equal(eif_write(&c, &buf, &size), 0);
    assert_int_equal(parse(buf, size), EIF_OK);
    free(buf);
}

static void test_strerror_distinct(void **state)
{
    (void)state;
    for (int i = EIF_OK; i <= EIF_ERR_LINUX_KERNEL; i++) {
        const char *a = eif_strerror((enum eif_error)i);
        assert_non_null(a);
        assert_true(strlen(a) > 0);
        for (int j = EIF_OK; j < i; j++)
            assert_string_not_equal(a, eif_strerror((enum eif_error)j));
    }
}

/* eif_update_crc after an edit gives what eif_write would have written. */
static void test_update_crc(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = write_v(2, &size);
    set_be(buf + EIF_CRC_OFFSET, 4, 0);
    eif_update_crc(buf, size);
    assert_int_equal(be(buf + EIF_CRC_OFFSET, 4), 0x907699b3u);
    eif_update_crc(buf, 10); /* too short: left alone */
    assert_int_equal(be(buf + EIF_CRC_OFFSET, 4), 0x907699b3u);
    free(buf);
}

/* The V2 metadata string, key for key, from the struct. */
static void test_metadata_v2_json(void **state)
{
    (void)state;
    struct eif_metadata m = {
        .image_name = S("test"),
        .image_version = S("1.0"),
        .build_time = S("2024-01-01T00:00:00+00:00"),
        .build_tool = S("eif_build"),
        .build_tool_version = S("0.2.0"),
        .operating_system = S("OS"),
        .kernel_version = S("kernel"),
    };
    char *json = eif_metadata_to_json(&m);
    assert_non_null(json);
    assert_string_equal(json, V2_METADATA);
    free(json);

    /* Embedded JSON values are re-serialised compactly, in their order. */
    m.docker_info_json = S("{ \"Id\" : \"sha256:abc\", \"Size\": 1234, \"Config\": {\"Env\": "
                           "[\"A=1\", \"B=2\"]} }");
    m.custom_json = S("[1, true, null, \"x\\\"y\"]");
    json = eif_metadata_to_json(&m);
    assert_non_null(json);
    assert_string_equal(
        json, "{\"ImageName\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":"
              "\"2024-01-01T00:00:00+00:00\",\"BuildTool\":\"eif_build\",\"BuildToolVersion\":"
              "\"0.2.0\",\"OperatingSystem\":\"OS\",\"KernelVersion\":\"kernel\"},\"DockerInfo\":{"
              "\"Id\":\"sha256:abc\",\"Size\":1234,\"Config\":{\"Env\":[\"A=1\",\"B=2\"]}},"
              "\"CustomMetadata\":[1,true,null,\"x\\\"y\"]}");
    free(json);

    m.custom_json = S("{not json");
    assert_null(eif_metadata_to_json(&m));
}

static void test_metadata_roundtrip(void **state)
{
    (void)state;
    struct eif_metadata m;
    assert_int_equal(eif_metadata_parse((const uint8_t *)V2_METADATA, 238, &m), 0);
    assert_string_equal(m.image_name, "test");
    assert_string_equal(m.image_version, "1.0");
    assert_string_equal(m.build_time, "2024-01-01T00:00:00+00:00");
    assert_string_equal(m.build_tool, "eif_build");
    assert_string_equal(m.build_tool_version, "0.2.0");
    assert_string_equal(m.operating_system, "OS");
    assert_string_equal(m.kernel_version, "kernel");
    assert_null(m.docker_info_json);
    assert_null(m.custom_json);
    char *json = eif_metadata_to_json(&m);
    assert_string_equal(json, V2_METADATA);
    free(json);
    eif_metadata_free(&m);
    assert_null(m.image_name);

    struct eif_metadata a = {S("app"),
                             S("v2"),
                             S("2025-05-05T05:05:05+00:00"),
                             S("alcove"),
                             S("0.1.0"),
                             S("alcove"),
                             S("6.1"),
                             S("{\"Id\":\"x\"}"),
                             S("{\"k\":[1,2]}")};
    json = eif_metadata_to_json(&a);
    assert_non_null(json);
    assert_int_equal(eif_metadata_parse((const uint8_t *)json, strlen(json), &m), 0);
    assert_string_equal(m.image_name, "app");
    assert_string_equal(m.kernel_version, "6.1");
    assert_string_equal(m.docker_info_json, "{\"Id\":\"x\"}");
    assert_string_equal(m.custom_json, "{\"k\":[1,2]}");
    char *again = eif_metadata_to_json(&m);
    assert_string_equal(again, json);
    free(again);
    free(json);
    eif_metadata_free(&m);
}

static void test_metadata_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "null",
        "[]",
        "{\"ImageName\":\"test\"",
        /* missing keys */
        "{\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":\"t\",\"BuildTool\":\"b\","
        "\"BuildToolVersion\":\"v\",\"OperatingSystem\":\"OS\",\"KernelVersion\":\"k\"},"
        "\"DockerInfo\":null,\"CustomMetadata\":null}",
        "{\"ImageName\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":\"t\","
        "\"BuildTool\":\"b\",\"BuildToolVersion\":\"v\",\"OperatingSystem\":\"OS\"},"
        "\"DockerInfo\":null,\"CustomMetadata\":null}",
        "{\"ImageName\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":\"t\","
        "\"BuildTool\":\"b\",\"BuildToolVersion\":\"v\",\"OperatingSystem\":\"OS\","
        "\"KernelVersion\":\"k\"},\"CustomMetadata\":null}",
        "{\"ImageName\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":\"t\","
        "\"BuildTool\":\"b\",\"BuildToolVersion\":\"v\",\"OperatingSystem\":\"OS\","
        "\"KernelVersion\":\"k\"},\"DockerInfo\":null}",
        /* wrong types */
        "{\"ImageName\":1,\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":\"t\","
        "\"BuildTool\":\"b\",\"BuildToolVersion\":\"v\",\"OperatingSystem\":\"OS\","
        "\"KernelVersion\":\"k\"},\"DockerInfo\":null,\"CustomMetadata\":null}",
        "{\"ImageName\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":[],"
        "\"DockerInfo\":null,\"CustomMetadata\":null}",
        "{\"ImageName\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":null,"
        "\"BuildTool\":\"b\",\"BuildToolVersion\":\"v\",\"OperatingSystem\":\"OS\","
        "\"KernelVersion\":\"k\"},\"DockerInfo\":null,\"CustomMetadata\":null}",
        /* case matters */
        "{\"imagename\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":\"t\","
        "\"BuildTool\":\"b\",\"BuildToolVersion\":\"v\",\"OperatingSystem\":\"OS\","
        "\"KernelVersion\":\"k\"},\"DockerInfo\":null,\"CustomMetadata\":null}",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct eif_metadata m;
        assert_int_equal(eif_metadata_parse((const uint8_t *)bad[i], strlen(bad[i]), &m), -1);
        assert_null(m.image_name);
    }
    /* Only the given length is read; nothing but white space may follow the object. */
    struct eif_metadata m;
    assert_int_equal(eif_metadata_parse((const uint8_t *)V2_METADATA, 237, &m), -1);
    char buf[300];
    snprintf(buf, sizeof(buf), "%s x", V2_METADATA);
    assert_int_equal(eif_metadata_parse((const uint8_t *)buf, strlen(buf), &m), -1);
    memcpy(buf, V2_METADATA "\0", 239);
    assert_int_equal(eif_metadata_parse((const uint8_t *)buf, 239, &m), -1);
    snprintf(buf, sizeof(buf), " %s \n", V2_METADATA);
    assert_int_equal(eif_metadata_parse((const uint8_t *)buf, strlen(buf), &m), 0);
    assert_string_equal(m.kernel_version, "kernel");
    eif_metadata_free(&m);
}

static void test_build_time(void **state)
{
    (void)state;
    char t[64];
    setenv("SOURCE_DATE_EPOCH", "1704067200", 1);
    eif_build_time(t, sizeof(t));
    assert_string_equal(t, "2024-01-01T00:00:00+00:00");
    setenv("SOURCE_DATE_EPOCH", "1717243323", 1);
    eif_build_time(t, sizeof(t));
    assert_string_equal(t, "2024-06-01T12:02:03+00:00");
    const char *invalid[] = {"", "abc", "12x", "-5", " 1"};
    for (unsigned i = 0; i < 5; i++) {
        setenv("SOURCE_DATE_EPOCH", invalid[i], 1);
        eif_build_time(t, sizeof(t));
        assert_int_equal(strlen(t), 25);
        assert_string_equal(t + 19, "+00:00");
        assert_true(strncmp(t, "2024", 4) >= 0); /* now, not 1970 */
    }
    unsetenv("SOURCE_DATE_EPOCH");
    eif_build_time(t, sizeof(t));
    assert_int_equal(strlen(t), 25);
    assert_int_equal(t[10], 'T');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_v1_pcr_of_bytes),
        cmocka_unit_test(test_launch_measure),
        cmocka_unit_test(test_v2_unsigned),
        cmocka_unit_test(test_v3_one_ramdisk),
        cmocka_unit_test(test_v4_three_ramdisks),
        cmocka_unit_test(test_write_parse_roundtrip),
        cmocka_unit_test(test_parse_any_order),
        cmocka_unit_test(test_fail_crc),
        cmocka_unit_test(test_fail_truncated),
        cmocka_unit_test(test_fail_bounds),
        cmocka_unit_test(test_fail_header_fields),
        cmocka_unit_test(test_fail_33_sections),
        cmocka_unit_test(test_fail_table),
        cmocka_unit_test(test_fail_section_header),
        cmocka_unit_test(test_fail_duplicate_and_missing),
        cmocka_unit_test(test_fail_trailing),
        cmocka_unit_test(test_fail_linux_kernel),
        cmocka_unit_test(test_strerror_distinct),
        cmocka_unit_test(test_update_crc),
        cmocka_unit_test(test_metadata_v2_json),
        cmocka_unit_test(test_metadata_roundtrip),
        cmocka_unit_test(test_metadata_rejects),
        cmocka_unit_test(test_build_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
