/* nsm_lib.c: checks the enclave's NSM through libnsm (alcove/nsm.h): the same ground as
 * nsm_raw.c, seen as the C API's results and error codes, plus the library's own rules (short
 * buffers, NULL arguments, requests too large to send). Prints "ok <name>" or "FAIL <name>:
 * detail" per check and exits 1 if any failed; expects a fresh enclave (PCRs 16-31 unlocked and
 * zero). With `--attest NONCE_HEX [USER_DATA_HEX]` it instead prints one line, the attestation
 * document for that nonce (and user data) in hex, for the host to verify. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alcove/nsm.h"
#include "sha384.h"

static int failures, checks;
static int32_t fd = -1;

static void ok(const char *name)
{
    checks++;
    printf("ok %s\n", name);
}

static void fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    checks++;
    failures++;
    printf("FAIL %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static const char *code_name(ErrorCode rc)
{
    static const char *const names[] = {
        "SUCCESS",          "INVALID_ARGUMENT", "INVALID_INDEX",
        "INVALID_RESPONSE", "READ_ONLY_INDEX",  "INVALID_OPERATION",
        "BUFFER_TOO_SMALL", "INPUT_TOO_LARGE",  "INTERNAL_ERROR",
    };
    return (unsigned)rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "?";
}

/* The call's result must be `want`. */
static bool expect_rc(const char *name, ErrorCode rc, ErrorCode want)
{
    if (rc == want)
        return true;
    fail(name, "got %s, want %s", code_name(rc), code_name(want));
    return false;
}

static void check_rc(const char *name, ErrorCode rc, ErrorCode want)
{
    if (expect_rc(name, rc, want))
        ok(name);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void check_description(void)
{
    static const char name[] = "get_description";
    NsmDescription d;
    memset(&d, 0, sizeof(d));
    if (!expect_rc(name, nsm_get_description(fd, &d), ERROR_CODE_SUCCESS))
        return;
    bool locked_ok = d.locked_pcrs_len == 16;
    for (uint32_t i = 0; locked_ok && i < 16; i++)
        locked_ok = d.locked_pcrs[i] == i;
    if (d.version_major != 1 || d.max_pcrs != 32 || d.digest != DIGEST_SHA384)
        fail(name, "version %u, max_pcrs %u, digest %d", d.version_major, d.max_pcrs,
             (int)d.digest);
    else if (d.module_id_len == 0 || strlen((const char *)d.module_id) != d.module_id_len)
        fail(name, "module_id empty or not NUL-terminated");
    else if (!locked_ok)
        fail(name, "locked_pcrs is not [0..15] (%u entries)", d.locked_pcrs_len);
    else
        printf("ok %s (%u.%u.%u, %s)\n", name, d.version_major, d.version_minor, d.version_patch,
               d.module_id),
            checks++;
    check_rc("get_description_null", nsm_get_description(fd, NULL), ERROR_CODE_INVALID_ARGUMENT);
}

/* DescribePCR into v; true when it succeeded with 48 bytes. */
static bool describe(const char *name, uint16_t index, bool *lock, uint8_t v[48])
{
    uint32_t len = 48;
    if (!expect_rc(name, nsm_describe_pcr(fd, index, lock, v, &len), ERROR_CODE_SUCCESS))
        return false;
    if (len != 48) {
        fail(name, "%u bytes", len);
        return false;
    }
    return true;
}

static void check_pcrs(void)
{
    static const uint8_t data[] = "alcove nsm_lib extend";
    const uint32_t dlen = sizeof(data) - 1;
    uint8_t v[48], before[48], want[48], out[64];
    uint32_t len;
    bool lock;

    if (describe("describe_pcr_0", 0, &lock, v)) {
        if (!lock)
            fail("describe_pcr_0", "not locked");
        else
            ok("describe_pcr_0");
    }
    if (describe("describe_pcr_16", 16, &lock, v)) {
        if (lock || !all_zero(v, 48))
            fail("describe_pcr_16", "not unlocked and zero at boot");
        else
            ok("describe_pcr_16");
    }
    if (describe("describe_pcr_31", 31, &lock, v)) {
        if (lock || !all_zero(v, 48))
            fail("describe_pcr_31", "not unlocked and zero at boot");
        else
            ok("describe_pcr_31");
    }
    len = 48;
    check_rc("describe_pcr_32", nsm_describe_pcr(fd, 32, &lock, v, &len), ERROR_CODE_INVALID_INDEX);

    /* extend 16: the result is SHA-384(old || data), and DescribePCR agrees */
    if (!describe("extend_pcr_16", 16, &lock, before))
        return;
    sha384_extend(before, data, dlen, want);
    len = sizeof(out);
    if (expect_rc("extend_pcr_16", nsm_extend_pcr(fd, 16, data, dlen, out, &len),
                  ERROR_CODE_SUCCESS)) {
        if (len != 48 || memcmp(out, want, 48) != 0)
            fail("extend_pcr_16", "%u bytes, value is not SHA-384(old || data)", len);
        else
            ok("extend_pcr_16");
    }
    if (describe("describe_pcr_16_extended", 16, &lock, v)) {
        if (lock || memcmp(v, want, 48) != 0)
            fail("describe_pcr_16_extended", "lock=%d or value differs", lock);
        else
            ok("describe_pcr_16_extended");
    }
    /* again into a 10-byte buffer: extended all the same, 10 bytes back, BUFFER_TOO_SMALL */
    memcpy(before, want, 48);
    sha384_extend(before, data, dlen, want);
    len = 10;
    memset(out, 0, sizeof(out));
    if (expect_rc("extend_pcr_16_short", nsm_extend_pcr(fd, 16, data, dlen, out, &len),
                  ERROR_CODE_BUFFER_TOO_SMALL)) {
        if (len != 10 || memcmp(out, want, 10) != 0 || out[10] != 0)
            fail("extend_pcr_16_short", "len %u or truncated value wrong", len);
        else
            ok("extend_pcr_16_short");
    }
    len = 48;
    check_rc("extend_pcr_null_data", nsm_extend_pcr(fd, 16, NULL, 0, out, &len),
             ERROR_CODE_INVALID_ARGUMENT);
    /* too large to send: refused by the library */
    static uint8_t big[NSM_REQUEST_MAX_SIZE];
    len = 48;
    check_rc("extend_pcr_too_large", nsm_extend_pcr(fd, 17, big, sizeof(big), out, &len),
             ERROR_CODE_INPUT_TOO_LARGE);
    /* describe into a short buffer */
    len = 5;
    if (expect_rc("describe_pcr_short", nsm_describe_pcr(fd, 16, &lock, v, &len),
                  ERROR_CODE_BUFFER_TOO_SMALL)) {
        if (len != 5 || memcmp(v, want, 5) != 0)
            fail("describe_pcr_short", "len %u or value wrong", len);
        else
            ok("describe_pcr_short");
    }

    /* lock 16: then read-only, and locking again is refused */
    check_rc("lock_pcr_16", nsm_lock_pcr(fd, 16), ERROR_CODE_SUCCESS);
    if (describe("describe_pcr_16_locked", 16, &lock, v)) {
        if (!lock || memcmp(v, want, 48) != 0)
            fail("describe_pcr_16_locked", "lock=%d or the value changed", lock);
        else
            ok("describe_pcr_16_locked");
    }
    len = 48;
    check_rc("extend_pcr_16_locked", nsm_extend_pcr(fd, 16, data, dlen, out, &len),
             ERROR_CODE_READ_ONLY_INDEX);
    check_rc("lock_pcr_16_again", nsm_lock_pcr(fd, 16), ERROR_CODE_READ_ONLY_INDEX);
    len = 48;
    check_rc("extend_pcr_0", nsm_extend_pcr(fd, 0, data, dlen, out, &len),
             ERROR_CODE_READ_ONLY_INDEX);
    check_rc("lock_pcr_32", nsm_lock_pcr(fd, 32), ERROR_CODE_INVALID_INDEX);
    check_rc("lock_pcrs_33", nsm_lock_pcrs(fd, 33), ERROR_CODE_INVALID_INDEX);
}

static void check_random(void)
{
    uint8_t a[64], b[64];
    size_t la = sizeof(a), lb = sizeof(b);
    if (expect_rc("get_random", nsm_get_random(fd, a, &la), ERROR_CODE_SUCCESS) &&
        expect_rc("get_random", nsm_get_random(fd, b, &lb), ERROR_CODE_SUCCESS)) {
        if (la != sizeof(a) || lb != sizeof(b))
            fail("get_random", "%zu and %zu bytes, want %zu", la, lb, sizeof(a));
        else if (all_zero(a, la) || memcmp(a, b, la) == 0)
            fail("get_random", "zero or repeated bytes");
        else
            ok("get_random");
    }
    /* more than one response holds: what there is (the NSM gives 256 at a time) */
    static uint8_t many[4096];
    size_t lm = sizeof(many);
    if (expect_rc("get_random_large", nsm_get_random(fd, many, &lm), ERROR_CODE_SUCCESS)) {
        if (lm == 0 || lm > sizeof(many))
            fail("get_random_large", "%zu bytes", lm);
        else
            printf("ok get_random_large (%zu bytes)\n", lm), checks++;
    }
    la = 0;
    check_rc("get_random_zero", nsm_get_random(fd, a, &la), ERROR_CODE_INVALID_ARGUMENT);
    la = sizeof(a);
    check_rc("get_random_bad_fd", nsm_get_random(-1, a, &la), ERROR_CODE_INVALID_ARGUMENT);
}

static void check_attestation(void)
{
    static const uint8_t ud[] = "alcove-user-data";
    static const uint8_t nonce[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67};
    static const uint8_t pk[] = "alcove-public-key-0123456789abcdef";
    static uint8_t doc[NSM_RESPONSE_MAX_SIZE];
    uint32_t len = sizeof(doc);
    if (expect_rc("attestation", nsm_get_attestation_doc(fd, ud, 16, nonce, 8, pk, 34, doc, &len),
                  ERROR_CODE_SUCCESS)) {
        if (len == 0 || (doc[0] != 0x84 && !(doc[0] == 0xd2 && doc[1] == 0x84)))
            fail("attestation", "not a COSE_Sign1 document (%u bytes)", len);
        else if (!memmem(doc, len, ud, 16) || !memmem(doc, len, nonce, 8) ||
                 !memmem(doc, len, pk, 34))
            fail("attestation", "user_data, nonce or public_key missing from the document");
        else
            printf("ok attestation (%u bytes)\n", len), checks++;
    }
    len = 16;
    if (expect_rc("attestation_short",
                  nsm_get_attestation_doc(fd, NULL, 0, NULL, 0, NULL, 0, doc, &len),
                  ERROR_CODE_BUFFER_TOO_SMALL)) {
        if (len != 16)
            fail("attestation_short", "len %u", len);
        else
            ok("attestation_short");
    }
    len = sizeof(doc);
    check_rc("attestation_no_fields",
             nsm_get_attestation_doc(fd, NULL, 0, NULL, 0, NULL, 0, doc, &len), ERROR_CODE_SUCCESS);
    /* 1024 bytes in each field fits in a request; 2048 of public key does not */
    static uint8_t big[2048];
    memset(big, 0x5a, sizeof(big));
    len = sizeof(doc);
    check_rc("attestation_1024_each",
             nsm_get_attestation_doc(fd, big, 1024, big, 1024, big, 1024, doc, &len),
             ERROR_CODE_SUCCESS);
    len = sizeof(doc);
    check_rc("attestation_too_large",
             nsm_get_attestation_doc(fd, big, 1024, big, 1024, big, 2048, doc, &len),
             ERROR_CODE_INPUT_TOO_LARGE);
}

static void check_lock_all(void)
{
    NsmDescription d;
    bool lock;
    uint8_t v[48];
    check_rc("lock_pcrs_32", nsm_lock_pcrs(fd, 32), ERROR_CODE_SUCCESS);
    if (expect_rc("locked_pcrs_all", nsm_get_description(fd, &d), ERROR_CODE_SUCCESS)) {
        bool all = d.locked_pcrs_len == 32;
        for (uint32_t i = 0; all && i < 32; i++)
            all = d.locked_pcrs[i] == i;
        if (!all)
            fail("locked_pcrs_all", "%u locked", d.locked_pcrs_len);
        else
            ok("locked_pcrs_all");
    }
    if (describe("describe_pcr_31_locked", 31, &lock, v)) {
        if (!lock)
            fail("describe_pcr_31_locked", "not locked");
        else
            ok("describe_pcr_31_locked");
    }
}

/* Hex to bytes; -1 when s is not an even number of hex digits or does not fit. */
static long unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
            !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
            return -1;
        out[i] = (uint8_t)v;
    }
    return (long)(n / 2);
}

static int attest(const char *nonce_hex, const char *ud_hex)
{
    static uint8_t nonce[1024], ud[1024], doc[NSM_RESPONSE_MAX_SIZE];
    long nn = unhex(nonce_hex, nonce, sizeof(nonce));
    long nu = ud_hex ? unhex(ud_hex, ud, sizeof(ud)) : 0;
    if (nn < 0 || nu < 0) {
        fprintf(stderr, "nsm_lib: nonce and user data must be hex, at most 1024 bytes\n");
        return 2;
    }
    fd = nsm_lib_init();
    if (fd < 0) {
        fprintf(stderr, "nsm_lib: /dev/nsm: %s\n", strerror(errno));
        return 1;
    }
    uint32_t len = sizeof(doc);
    ErrorCode rc = nsm_get_attestation_doc(fd, ud_hex ? ud : NULL, (uint32_t)nu, nonce,
                                           (uint32_t)nn, NULL, 0, doc, &len);
    nsm_lib_exit(fd);
    if (rc != ERROR_CODE_SUCCESS) {
        fprintf(stderr, "nsm_lib: attestation: %s\n", code_name(rc));
        return 1;
    }
    for (uint32_t i = 0; i < len; i++)
        printf("%02x", doc[i]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--attest") == 0 && argc <= 4)
        return attest(argv[2], argc == 4 ? argv[3] : NULL);
    if (argc != 1) {
        fprintf(stderr, "usage: nsm_lib [--attest NONCE_HEX [USER_DATA_HEX]]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = nsm_lib_init();
    if (fd < 0) {
        fail("open", "/dev/nsm: %s", strerror(errno));
        return 1;
    }
    ok("open");
    check_description();
    check_pcrs();
    check_random();
    check_attestation();
    check_lock_all();
    nsm_lib_exit(fd);
    printf("nsm_lib: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
