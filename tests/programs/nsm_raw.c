/* nsm_raw.c: checks the enclave's /dev/nsm at the ioctl level, with hand-built CBOR requests and
 * byte-level checks of the responses (no libnsm): every request type, PCR extension against a
 * SHA-384 computed here, locking, the error answers, the kernel's size and command checks, and
 * response truncation. Prints "ok <name>" or "FAIL <name>: detail" per check and exits 1 if any
 * failed. It expects a fresh enclave: PCRs 16-31 unlocked and zero. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sha384.h"

/* include/uapi/linux/nsm.h */
struct nsm_iovec {
    uint64_t addr;
    uint64_t len;
};
struct nsm_raw {
    struct nsm_iovec request;
    struct nsm_iovec response;
};
#define NSM_IOCTL_RAW   0xC0200A00ul /* _IOWR(0x0A, 0, struct nsm_raw) */
#define NSM_REQUEST_MAX 0x1000
#define NSM_RESP_MAX    0x3000

/* a literal as (pointer, length) */
#define LIT(s) (const uint8_t *)(s), (sizeof(s) - 1)

static int failures, checks;
static int fd = -1;
static uint8_t resp[NSM_RESP_MAX];
static size_t resp_len;

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

static void hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%02x", p[i]);
    if (n * 2 + 1 > cap && cap > 4)
        memcpy(out + cap - 4, "..", 3);
}

/* One ioctl with cmd; the response lands in resp/resp_len. Returns 0 or an errno. */
static int xfer_cmd(unsigned long cmd, const uint8_t *req, size_t n, size_t cap)
{
    struct nsm_raw raw = {
        .request = {(uint64_t)(uintptr_t)req, n},
        .response = {(uint64_t)(uintptr_t)resp, cap},
    };
    memset(resp, 0, sizeof(resp));
    resp_len = 0;
    if (ioctl(fd, cmd, &raw) < 0)
        return errno;
    resp_len = (size_t)raw.response.len;
    return 0;
}

static int xfer(const uint8_t *req, size_t n)
{
    return xfer_cmd(NSM_IOCTL_RAW, req, n, NSM_RESP_MAX);
}

/* Sends req; the exchange must succeed and the response equal want exactly. */
static void expect_exact(const char *name, const uint8_t *req, size_t n, const uint8_t *want,
                         size_t want_len)
{
    char got[200];
    int err = xfer(req, n);
    if (err) {
        fail(name, "ioctl: %s", strerror(err));
        return;
    }
    if (resp_len != want_len || memcmp(resp, want, want_len) != 0) {
        hex(resp, resp_len, got, sizeof(got));
        fail(name, "response %s (%zu bytes)", got, resp_len);
        return;
    }
    ok(name);
}

/* {"Error": "<name>"} */
static size_t error_resp(const char *code, uint8_t *out)
{
    size_t n = strlen(code);
    memcpy(out,
           "\xa1\x65"
           "Error",
           7);
    out[7] = (uint8_t)(0x60 + n);
    memcpy(out + 8, code, n);
    return 8 + n;
}

static void expect_error(const char *name, const uint8_t *req, size_t n, const char *code)
{
    uint8_t want[64];
    size_t k = error_resp(code, want);
    expect_exact(name, req, n, want, k);
}

/* {"<variant>": {"<field>": index}} with a small uint, built by hand. */
static size_t req_index(uint8_t *b, const char *variant, const char *field, unsigned v)
{
    size_t n = 0, lv = strlen(variant), lf = strlen(field);
    b[n++] = 0xa1;
    b[n++] = (uint8_t)(0x60 + lv);
    memcpy(b + n, variant, lv);
    n += lv;
    b[n++] = 0xa1;
    b[n++] = (uint8_t)(0x60 + lf);
    memcpy(b + n, field, lf);
    n += lf;
    if (v < 24) {
        b[n++] = (uint8_t)v;
    } else {
        b[n++] = 0x18;
        b[n++] = (uint8_t)v;
    }
    return n;
}

/* {"ExtendPCR": {"index": i, "data": bstr}}, data up to 0xffff bytes */
static size_t req_extend(uint8_t *b, unsigned index, const uint8_t *data, size_t len)
{
    size_t n = 0;
    memcpy(b,
           "\xa1\x69"
           "ExtendPCR"
           "\xa2\x65"
           "index",
           18);
    n = 18;
    if (index < 24) {
        b[n++] = (uint8_t)index;
    } else {
        b[n++] = 0x18;
        b[n++] = (uint8_t)index;
    }
    memcpy(b + n,
           "\x64"
           "data",
           5);
    n += 5;
    if (len < 24) {
        b[n++] = (uint8_t)(0x40 + len);
    } else if (len < 256) {
        b[n++] = 0x58;
        b[n++] = (uint8_t)len;
    } else {
        b[n++] = 0x59;
        b[n++] = (uint8_t)(len >> 8);
        b[n++] = (uint8_t)len;
    }
    memcpy(b + n, data, len);
    return n + len;
}

/* A byte string head at p: its length, and where its bytes start. */
static bool bstr_at(const uint8_t *p, const uint8_t *end, const uint8_t **data, size_t *len)
{
    if (p >= end)
        return false;
    if (*p >= 0x40 && *p < 0x58) {
        *len = *p & 0x1fu, *data = p + 1;
    } else if (*p == 0x58 && end - p >= 2) {
        *len = p[1], *data = p + 2;
    } else if (*p == 0x59 && end - p >= 3) {
        *len = (size_t)p[1] << 8 | p[2], *data = p + 3;
    } else {
        return false;
    }
    return *data + *len <= end;
}

/* The bytes right after an encoded key in resp, or NULL. */
static const uint8_t *after_key(const uint8_t *key, size_t n)
{
    const uint8_t *p = memmem(resp, resp_len, key, n);
    return p ? p + n : NULL;
}

/* DescribePCR index: lock state and 48-byte value, from a response with keys in any order. */
static bool describe_pcr(const char *name, unsigned index, bool *lock, uint8_t value[48])
{
    uint8_t req[32];
    size_t n = req_index(req, "DescribePCR", "index", index);
    int err = xfer(req, n);
    if (err) {
        fail(name, "ioctl: %s", strerror(err));
        return false;
    }
    const uint8_t *end = resp + resp_len, *l, *d, *data;
    size_t len;
    if (resp_len < 15 || memcmp(resp,
                                "\xa1\x6b"
                                "DescribePCR"
                                "\xa2",
                                14) != 0) {
        char got[100];
        hex(resp, resp_len, got, sizeof(got));
        fail(name, "not a DescribePCR response: %s", got);
        return false;
    }
    l = after_key(LIT("\x64"
                      "lock"));
    d = after_key(LIT("\x64"
                      "data"));
    if (!l || l >= end || (*l != 0xf4 && *l != 0xf5) || !d || !bstr_at(d, end, &data, &len) ||
        len != 48) {
        fail(name, "lock/data fields missing or malformed");
        return false;
    }
    *lock = *l == 0xf5;
    memcpy(value, data, 48);
    return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void check_describe_nsm(void)
{
    static const char name[] = "describe_nsm";
    int err = xfer(LIT("\x6b"
                       "DescribeNSM"));
    if (err) {
        fail(name, "ioctl: %s", strerror(err));
        return;
    }
    static const uint8_t locked16[] = {0x90, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const uint8_t *p;
    if (resp_len < 15 || memcmp(resp,
                                "\xa1\x6b"
                                "DescribeNSM"
                                "\xa7",
                                14) != 0)
        fail(name, "not {\"DescribeNSM\": map(7)}");
    else if (!(p = after_key(LIT("\x68"
                                 "max_pcrs"))) ||
             *p != 0x18 || p[1] != 32)
        fail(name, "max_pcrs is not 32");
    else if (!(p = after_key(LIT("\x66"
                                 "digest"))) ||
             memcmp(p,
                    "\x66"
                    "SHA384",
                    7) != 0)
        fail(name, "digest is not \"SHA384\"");
    else if (!(p = after_key(LIT("\x6b"
                                 "locked_pcrs"))) ||
             memcmp(p, locked16, sizeof(locked16)) != 0)
        fail(name, "locked_pcrs is not [0..15]");
    else if (!(p = after_key(LIT("\x69"
                                 "module_id"))) ||
             *p <= 0x60 || *p > 0x78)
        fail(name, "module_id is not a non-empty text string");
    else if (!(p = after_key(LIT("\x6d"
                                 "version_major"))) ||
             *p != 0x01)
        fail(name, "version_major is not 1");
    else if (!after_key(LIT("\x6d"
                            "version_minor")) ||
             !after_key(LIT("\x6d"
                            "version_patch")))
        fail(name, "version_minor or version_patch missing");
    else
        ok(name);
}

static void check_pcrs(void)
{
    uint8_t v[48], before[48];
    bool lock;
    char got[120];
    static const uint8_t data[] = "alcove nsm_raw extend";
    uint8_t req[NSM_REQUEST_MAX + 64];
    size_t n;

    if (describe_pcr("describe_pcr_0", 0, &lock, v)) {
        hex(v, 48, got, sizeof(got));
        if (!lock)
            fail("describe_pcr_0", "PCR0 is not locked");
        else
            printf("ok describe_pcr_0 (locked, %s)\n", got), checks++;
    }
    if (describe_pcr("describe_pcr_16", 16, &lock, v)) {
        if (lock || !all_zero(v, 48))
            fail("describe_pcr_16", "not unlocked and zero at boot (lock=%d)", lock);
        else
            ok("describe_pcr_16");
    }
    if (describe_pcr("describe_pcr_31", 31, &lock, v)) {
        if (lock || !all_zero(v, 48))
            fail("describe_pcr_31", "not unlocked and zero at boot (lock=%d)", lock);
        else
            ok("describe_pcr_31");
    }
    n = req_index(req, "DescribePCR", "index", 32);
    expect_error("describe_pcr_32", req, n, "InvalidIndex");

    /* ExtendPCR 16: the new value is SHA-384(old || data) */
    /* {"ExtendPCR": {"data": bstr(48)}} */
    static const char extend_head[] = "\xa1\x69"
                                      "ExtendPCR"
                                      "\xa1\x64"
                                      "data"
                                      "\x58\x30";
    const size_t hl = sizeof(extend_head) - 1;
    uint8_t want16[48], want17[48], resp_want[sizeof(extend_head) - 1 + 48];
    if (!describe_pcr("extend_pcr_16", 16, &lock, before))
        return;
    sha384_extend(before, data, sizeof(data) - 1, want16);
    memcpy(resp_want, extend_head, hl);
    memcpy(resp_want + hl, want16, 48);
    n = req_extend(req, 16, data, sizeof(data) - 1);
    expect_exact("extend_pcr_16", req, n, resp_want, sizeof(resp_want));
    if (describe_pcr("describe_pcr_16_extended", 16, &lock, v)) {
        if (lock || memcmp(v, want16, 48) != 0)
            fail("describe_pcr_16_extended", "lock=%d or value is not the SHA-384", lock);
        else
            ok("describe_pcr_16_extended");
    }

    /* a request of exactly NSM_REQUEST_MAX bytes goes through (on PCR 17): 27 bytes + data */
    static uint8_t big[NSM_REQUEST_MAX];
    memset(big, 0xa5, sizeof(big));
    n = req_extend(req, 17, big, NSM_REQUEST_MAX - 27);
    if (n != NSM_REQUEST_MAX) {
        fail("request_max_size", "built %zu bytes", n);
    } else if (describe_pcr("request_max_size", 17, &lock, before)) {
        sha384_extend(before, big, NSM_REQUEST_MAX - 27, want17);
        memcpy(resp_want + hl, want17, 48);
        expect_exact("request_max_size", req, n, resp_want, sizeof(resp_want));
    }
    /* one byte more: the kernel refuses it */
    n = req_extend(req, 17, big, NSM_REQUEST_MAX - 26);
    int err = xfer(req, n);
    if (err != EMSGSIZE)
        fail("request_too_large", "%zu bytes: %s, want EMSGSIZE", n, err ? strerror(err) : "ok");
    else
        ok("request_too_large");

    /* LockPCR 16, then it is read-only */
    n = req_index(req, "LockPCR", "index", 16);
    expect_exact("lock_pcr_16", req, n,
                 LIT("\x67"
                     "LockPCR"));
    if (describe_pcr("describe_pcr_16_locked", 16, &lock, v)) {
        if (!lock || memcmp(v, want16, 48) != 0)
            fail("describe_pcr_16_locked", "lock=%d or the value changed", lock);
        else
            ok("describe_pcr_16_locked");
    }
    n = req_extend(req, 16, data, sizeof(data) - 1);
    expect_error("extend_pcr_16_locked", req, n, "ReadOnlyIndex");
    n = req_index(req, "LockPCR", "index", 16);
    expect_error("lock_pcr_16_again", req, n, "ReadOnlyIndex");
    n = req_extend(req, 0, data, sizeof(data) - 1);
    expect_error("extend_pcr_0", req, n, "ReadOnlyIndex");
    n = req_index(req, "LockPCRs", "range", 33);
    expect_error("lock_pcrs_33", req, n, "InvalidIndex");
}

static void check_random(void)
{
    static const char name[] = "get_random";
    static const uint8_t prefix[] = "\xa1\x69"
                                    "GetRandom"
                                    "\xa1\x66"
                                    "random";
    uint8_t first[NSM_RESP_MAX];
    size_t first_len = 0;
    for (int round = 0; round < 2; round++) {
        int err = xfer(LIT("\x69"
                           "GetRandom"));
        const uint8_t *data;
        size_t len;
        if (err) {
            fail(name, "ioctl: %s", strerror(err));
            return;
        }
        if (resp_len < sizeof(prefix) - 1 || memcmp(resp, prefix, sizeof(prefix) - 1) != 0) {
            fail(name, "response does not start A1 69 \"GetRandom\" A1 66 \"random\"");
            return;
        }
        const uint8_t *p = resp + sizeof(prefix) - 1;
        if (!bstr_at(p, resp + resp_len, &data, &len) || data + len != resp + resp_len ||
            len == 0) {
            fail(name, "random is not one non-empty byte string ending the response");
            return;
        }
        if (all_zero(data, len)) {
            fail(name, "%zu zero bytes", len);
            return;
        }
        if (round == 0) {
            memcpy(first, data, len);
            first_len = len;
        } else if (len == first_len && memcmp(first, data, len) == 0) {
            fail(name, "two calls gave the same %zu bytes", len);
            return;
        }
    }
    printf("ok %s (%zu bytes)\n", name, first_len);
    checks++;
}

static void check_attestation(void)
{
    static const char name[] = "attestation";
    static const uint8_t ud[] = "alcove-user-data";
    static const uint8_t nonce[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67};
    static const uint8_t pk[] = "alcove-public-key-0123456789abcdef";
    uint8_t req[256];
    size_t n = 0;
    memcpy(req,
           "\xa1\x6b"
           "Attestation"
           "\xa3\x69"
           "user_data",
           24);
    n = 24;
    req[n++] = 0x50; /* bstr(16) */
    memcpy(req + n, ud, 16);
    n += 16;
    memcpy(req + n,
           "\x65"
           "nonce"
           "\x48",
           7);
    n += 7;
    memcpy(req + n, nonce, 8);
    n += 8;
    memcpy(req + n,
           "\x6a"
           "public_key"
           "\x58\x22",
           13);
    n += 13;
    memcpy(req + n, pk, 34);
    n += 34;
    int err = xfer(req, n);
    static const uint8_t prefix[] = "\xa1\x6b"
                                    "Attestation"
                                    "\xa1\x68"
                                    "document";
    const uint8_t *doc;
    size_t len;
    if (err) {
        fail(name, "ioctl: %s", strerror(err));
    } else if (resp_len < sizeof(prefix) - 1 || memcmp(resp, prefix, sizeof(prefix) - 1) != 0) {
        fail(name, "response does not start {\"Attestation\": {\"document\": ...");
    } else if (!bstr_at(resp + sizeof(prefix) - 1, resp + resp_len, &doc, &len) ||
               doc + len != resp + resp_len) {
        fail(name, "document is not one byte string ending the response");
    } else if (doc[0] != 0x84 && !(doc[0] == 0xd2 && doc[1] == 0x84)) {
        fail(name, "document is not a COSE_Sign1 array (starts %02x)", doc[0]);
    } else if (!memmem(doc, len, ud, 16) || !memmem(doc, len, nonce, 8) ||
               !memmem(doc, len, pk, 34)) {
        fail(name, "user_data, nonce or public_key missing from the document");
    } else {
        printf("ok %s (%zu bytes)\n", name, len);
        checks++;
    }
    static const uint8_t nulls[] = "\xa1\x6b"
                                   "Attestation"
                                   "\xa3\x69"
                                   "user_data"
                                   "\xf6\x65"
                                   "nonce"
                                   "\xf6\x6a"
                                   "public_key"
                                   "\xf6";
    err = xfer(LIT(nulls));
    if (err)
        fail("attestation_null_fields", "ioctl: %s", strerror(err));
    else if (resp_len < sizeof(prefix) - 1 || memcmp(resp, prefix, sizeof(prefix) - 1) != 0)
        fail("attestation_null_fields", "not an Attestation response");
    else
        ok("attestation_null_fields");
}

static void check_protocol_errors(void)
{
    uint8_t req[64];
    size_t n = req_index(req, "DescribePCR", "index", 0);
    /* a request cut short is not CBOR: InvalidOperation */
    expect_error("truncated_request", req, n - 3, "InvalidOperation");
    expect_error("unknown_request",
                 LIT("\x67"
                     "Unknown"),
                 "InvalidOperation");
    /* other ioctl numbers: EINVAL */
    int err = xfer_cmd(NSM_IOCTL_RAW + 1, req, n, NSM_RESP_MAX);
    if (err != EINVAL)
        fail("wrong_ioctl", "0x%lx: %s, want EINVAL", NSM_IOCTL_RAW + 1,
             err ? strerror(err) : "ok");
    else
        ok("wrong_ioctl");
    err = xfer_cmd(0xC0180A00ul, req, n, NSM_RESP_MAX); /* the same with a 24-byte size */
    if (err != EINVAL)
        fail("wrong_ioctl_size", "%s, want EINVAL", err ? strerror(err) : "ok");
    else
        ok("wrong_ioctl_size");
    /* a short response buffer: the response is cut and its length written back */
    uint8_t full[NSM_RESP_MAX];
    size_t full_len;
    err = xfer(LIT("\x6b"
                   "DescribeNSM"));
    memcpy(full, resp, resp_len);
    full_len = resp_len;
    if (!err)
        err = xfer_cmd(NSM_IOCTL_RAW,
                       (const uint8_t *)"\x6b"
                                        "DescribeNSM",
                       12, 10);
    if (err)
        fail("short_response", "ioctl: %s", strerror(err));
    else if (resp_len != 10 || full_len <= 10 || memcmp(resp, full, 10) != 0 || resp[10] != 0)
        fail("short_response", "response.len %zu (full %zu)", resp_len, full_len);
    else
        ok("short_response");
}

/* Last: LockPCRs 32 locks everything, which DescribeNSM and DescribePCR 31 then show. */
static void check_lock_all(void)
{
    uint8_t req[32], v[48];
    bool lock;
    size_t n = req_index(req, "LockPCRs", "range", 32);
    expect_exact("lock_pcrs_32", req, n,
                 LIT("\x68"
                     "LockPCRs"));
    uint8_t want[64];
    size_t k = 0;
    want[k++] = 0x98;
    want[k++] = 32;
    for (unsigned i = 0; i < 32; i++) {
        if (i >= 24)
            want[k++] = 0x18;
        want[k++] = (uint8_t)i;
    }
    int err = xfer(LIT("\x6b"
                       "DescribeNSM"));
    const uint8_t *p = err ? NULL
                           : after_key(LIT("\x6b"
                                           "locked_pcrs"));
    if (!p || memcmp(p, want, k) != 0)
        fail("locked_pcrs_all", "locked_pcrs is not [0..31]");
    else
        ok("locked_pcrs_all");
    if (describe_pcr("describe_pcr_31_locked", 31, &lock, v)) {
        if (!lock)
            fail("describe_pcr_31_locked", "not locked");
        else
            ok("describe_pcr_31_locked");
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = open("/dev/nsm", O_RDWR);
    if (fd < 0) {
        fail("open", "/dev/nsm: %s", strerror(errno));
        return 1;
    }
    ok("open");
    check_describe_nsm();
    check_pcrs();
    check_random();
    check_attestation();
    check_protocol_errors();
    check_lock_all();
    close(fd);
    printf("nsm_raw: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
