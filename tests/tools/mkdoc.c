/* mkdoc.c: a test tool (built, not installed) that makes an attestation document on the host
 * without an enclave: it loads the CA from a directory, issues a leaf, sets up an NSM with
 * given boot PCRs, and sends it one Attestation request, as an enclave would, then writes the
 * document from the response to a file. The bats suite tests/integration/attest_host.bats feeds
 * the result to `alcove verify-attestation` and to the independent tests/integration/verify_doc.py.
 *
 * Usage: mkdoc --ca-dir DIR --out FILE [--module-id ID] [--pcr N=HEX (N in 0,1,2,8)] [--debug]
 *              [--nonce HEX] [--user-data HEX] [--public-key HEX] [--age SECONDS]
 *              [--extend N=HEX (ExtendPCR then LockPCR on N in 16..31)]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/ca.h"
#include "attest/nsm.h"
#include "common/cbor_read.h"
#include "common/cbor_write.h"

static long hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return (long)(n / 2);
}

static uint64_t g_age_ms;

static uint64_t aged_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u - g_age_ms;
}

static void die(const char *msg)
{
    fprintf(stderr, "mkdoc: %s\n", msg);
    exit(2);
}

/* Sends req to the NSM; dies unless the response is a map with key want. */
static size_t call(struct nsm *nsm, struct cbuf *req, uint8_t *resp, const char *want)
{
    if (req->oom)
        die("out of memory");
    size_t n = nsm_handle(nsm, req->p, req->len, resp, NSM_RESPONSE_MAX_SIZE);
    struct cb_reader r = {resp, n};
    struct cb_item it;
    if (cb_next(&r, &it) || it.kind != CB_MAP || cb_next(&r, &it) || !cb_is_text(&it, want)) {
        fprintf(stderr, "mkdoc: the NSM answered %.*s\n", (int)(n > 80 ? 80 : n),
                (const char *)resp);
        exit(2);
    }
    free(req->p);
    memset(req, 0, sizeof(*req));
    return n;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"ca-dir", required_argument, NULL, 'c'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"module-id", required_argument, NULL, 'm'},
                                         {"pcr", required_argument, NULL, 'p'},
                                         {"debug", no_argument, NULL, 'd'},
                                         {"nonce", required_argument, NULL, 'n'},
                                         {"user-data", required_argument, NULL, 'u'},
                                         {"public-key", required_argument, NULL, 'k'},
                                         {"age", required_argument, NULL, 'a'},
                                         {"extend", required_argument, NULL, 'e'},
                                         {0}};
    static uint8_t nonce[2048], user_data[2048], public_key[2048], ext_data[2048];
    static uint8_t resp[NSM_RESPONSE_MAX_SIZE];
    long nonce_len = -1, user_len = -1, key_len = -1, ext_len = -1;
    int ext_idx = -1;
    const char *ca_dir = NULL, *out = NULL, *module_id = "i-0123456789abcdef0-enc0123456789abcdef";
    uint8_t pcrs[9][NSM_PCR_SIZE];
    bool has_pcr8 = false, debug = false;
    char why[512];
    int c;

    for (int i = 0; i < 9; i++)
        memset(pcrs[i], 0x10 + i, NSM_PCR_SIZE);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *eq;
        long idx;
        switch (c) {
        case 'c':
            ca_dir = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'm':
            module_id = optarg;
            break;
        case 'p':
            idx = strtol(optarg, &eq, 10);
            if (*eq != '=' || (idx != 0 && idx != 1 && idx != 2 && idx != 8) ||
                hex(eq + 1, pcrs[idx], NSM_PCR_SIZE) != NSM_PCR_SIZE)
                die("--pcr N=HEX: N in 0, 1, 2, 8; 48 bytes");
            has_pcr8 |= idx == 8;
            break;
        case 'd':
            debug = true;
            break;
        case 'n':
            if ((nonce_len = hex(optarg, nonce, sizeof(nonce))) < 0)
                die("--nonce HEX");
            break;
        case 'u':
            if ((user_len = hex(optarg, user_data, sizeof(user_data))) < 0)
                die("--user-data HEX");
            break;
        case 'k':
            if ((key_len = hex(optarg, public_key, sizeof(public_key))) < 0)
                die("--public-key HEX");
            break;
        case 'a':
            g_age_ms = strtoull(optarg, NULL, 10) * 1000u;
            break;
        case 'e':
            ext_idx = (int)strtol(optarg, &eq, 10);
            if (*eq != '=' || (ext_len = hex(eq + 1, ext_data, sizeof(ext_data))) < 0)
                die("--extend N=HEX");
            break;
        default:
            die("bad option");
        }
    }
    if (ca_dir == NULL || out == NULL)
        die("usage: mkdoc --ca-dir DIR --out FILE [options]");

    struct attest_ca *ca = ca_load(ca_dir, why, sizeof(why));
    struct attest_signer signer;
    if (ca == NULL)
        die(why);
    if (ca_issue_signer(ca, module_id, time(NULL), &signer, why, sizeof(why)))
        die(why);
    ca_free(ca); /* the NSM needs only the leaf */

    struct nsm nsm;
    if (nsm_init(&nsm, pcrs[0], pcrs[1], pcrs[2], has_pcr8 ? pcrs[8] : NULL, debug, module_id,
                 &signer))
        die("bad module id");
    if (g_age_ms)
        nsm.clock_ms = aged_clock;

    struct cbuf req = {0};
    if (ext_idx >= 0) {
        cbw_map(&req, 1);
        cbw_text(&req, "ExtendPCR");
        cbw_map(&req, 2);
        cbw_text(&req, "index");
        cbw_uint(&req, (uint64_t)ext_idx);
        cbw_text(&req, "data");
        cbw_bytes(&req, ext_data, (size_t)ext_len);
        call(&nsm, &req, resp, "ExtendPCR");
        cbw_map(&req, 1);
        cbw_text(&req, "LockPCR");
        cbw_map(&req, 1);
        cbw_text(&req, "index");
        cbw_uint(&req, (uint64_t)ext_idx);
        size_t n = nsm_handle(&nsm, req.p, req.len, resp, sizeof(resp));
        if (n != 8 || memcmp(resp, "\x67LockPCR", 8) != 0)
            die("LockPCR failed");
        free(req.p);
        memset(&req, 0, sizeof(req));
    }

    cbw_map(&req, 1);
    cbw_text(&req, "Attestation");
    cbw_map(&req, 3);
    cbw_text(&req, "user_data");
    user_len >= 0 ? cbw_bytes(&req, user_data, (size_t)user_len) : cbw_null(&req);
    cbw_text(&req, "nonce");
    nonce_len >= 0 ? cbw_bytes(&req, nonce, (size_t)nonce_len) : cbw_null(&req);
    cbw_text(&req, "public_key");
    key_len >= 0 ? cbw_bytes(&req, public_key, (size_t)key_len) : cbw_null(&req);
    size_t n = call(&nsm, &req, resp, "Attestation");

    /* {"Attestation": {"document": bstr}} */
    struct cb_reader r = {resp, n};
    struct cb_item it;
    if (cb_expect(&r, CB_MAP, &it) || cb_next(&r, &it) || cb_expect(&r, CB_MAP, &it) ||
        cb_next(&r, &it) || !cb_is_text(&it, "document") || cb_expect(&r, CB_BYTES, &it))
        die("unexpected Attestation response");
    FILE *f = fopen(out, "wb");
    if (f == NULL || fwrite(it.ptr, 1, it.len, f) != it.len || fclose(f) != 0)
        die("cannot write the output file");
    attest_signer_free(&signer);
    return 0;
}
