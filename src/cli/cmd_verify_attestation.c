/* cmd_verify_attestation.c: `alcove verify-attestation --document FILE --ca CA.pem [--pcr N=HEX]...
 * [--nonce HEX] [--max-age SECONDS] [--at TIME] [--accept-debug]`: verifies an attestation document
 * (raw COSE_Sign1 bytes, as an enclave gets them from /dev/nsm) against the pinned CA and the
 * policy given (src/attest/verify.h), and prints what it says as JSON; on failure, an [ E80 ] error
 * with the reason and no JSON. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli/args.h"
#include "attest/verify.h"
#include "cli/commands.h"
#include "cli/json_out.h"
#include "common/errors.h"
#include "common/fileio.h"

/* Decodes hex (an optional 0x prefix, even length) into out. Its length, or -1. */
static long parse_hex(const char *s, uint8_t *out, size_t cap)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = s[2 * i + k];
            int d = ch >= '0' && ch <= '9'   ? ch - '0'
                    : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                             : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return (long)(n / 2);
}

static char *hex_string(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 0xf];
    }
    s[2 * n] = '\0';
    return s;
}

static void add_hex(cJSON *obj, const char *key, const uint8_t *p, size_t n)
{
    char *s = hex_string(p, n);
    cJSON_AddStringToObject(obj, key, s ? s : "");
    free(s);
}

static void add_opt(cJSON *obj, const char *key, const struct attest_opt *o)
{
    if (o->present)
        add_hex(obj, key, o->data, o->len);
    else
        cJSON_AddNullToObject(obj, key);
}

/* "N=HEX" into the policy. 0 or -1. */
static int add_pcr(struct attest_policy *pol, const char *arg)
{
    char *end;
    errno = 0;
    unsigned long idx = strtoul(arg, &end, 10);
    if (errno || end == arg || *end != '=' || idx >= ATTEST_MAX_PCRS)
        return -1;
    long n = parse_hex(end + 1, pol->pcr[idx], ATTEST_PCR_MAX_SIZE);
    if (n != 32 && n != 48 && n != 64)
        return -1;
    pol->pcr_mask |= 1u << idx;
    pol->pcr_len[idx] = (size_t)n;
    return 0;
}

/* The pinned CA: a PEM (or DER) certificate file, as DER. */
static uint8_t *load_ca_der(const char *path, size_t *len)
{
    size_t size;
    uint8_t *buf = read_file(path, &size), *der = NULL;
    if (buf == NULL)
        return NULL;
    BIO *bio = size <= INT_MAX ? BIO_new_mem_buf(buf, (int)size) : NULL;
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (cert == NULL) {
        const unsigned char *p = buf;
        cert = d2i_X509(NULL, &p, (long)size);
    }
    unsigned char *out = NULL;
    int n = cert ? i2d_X509(cert, &out) : -1;
    if (n > 0 && (der = malloc((size_t)n)) != NULL) {
        memcpy(der, out, (size_t)n);
        *len = (size_t)n;
    }
    OPENSSL_free(out);
    X509_free(cert);
    free(buf);
    if (der == NULL)
        errno = EBADMSG; /* EINVAL is read_file's "not a regular file" */
    return der;
}

static void print_result(const struct attest_result *res)
{
    char key[8];
    cJSON *out = cJSON_CreateObject();
    cJSON_AddBoolToObject(out, "Valid", 1);
    cJSON_AddStringToObject(out, "ModuleID", res->module_id);
    cJSON_AddNumberToObject(out, "Timestamp", (double)res->timestamp_ms);
    cJSON_AddStringToObject(out, "Digest", res->digest);
    cJSON *pcrs = cJSON_AddObjectToObject(out, "PCRs");
    for (unsigned i = 0; i < ATTEST_MAX_PCRS; i++) {
        if (res->pcr_mask & (1u << i)) {
            snprintf(key, sizeof(key), "%u", i);
            add_hex(pcrs, key, res->pcr[i], res->pcr_len[i]);
        }
    }
    add_opt(out, "UserData", &res->user_data);
    add_opt(out, "Nonce", &res->nonce);
    add_opt(out, "PublicKey", &res->public_key);
    cJSON *cert = cJSON_AddObjectToObject(out, "Certificate");
    cJSON_AddStringToObject(cert, "Subject", res->cert_subject);
    cJSON_AddStringToObject(cert, "NotBefore", res->cert_not_before);
    cJSON_AddStringToObject(cert, "NotAfter", res->cert_not_after);
    cJSON_AddBoolToObject(out, "Debug", res->debug);
    json_print(stdout, out);
    cJSON_Delete(out);
}

static int run_verify_attestation(int argc, char **argv)
{
    static const struct option opts[] = {
        {"document", required_argument, NULL, 'd'}, {"ca", required_argument, NULL, 'c'},
        {"pcr", required_argument, NULL, 'p'},      {"nonce", required_argument, NULL, 'n'},
        {"max-age", required_argument, NULL, 'm'},  {"accept-debug", no_argument, NULL, 'a'},
        {"at", required_argument, NULL, 't'},       {0}};
    static uint8_t nonce[ATTEST_FIELD_MAX];
    static struct attest_policy pol;
    static struct attest_result res;
    const char *doc_path = NULL, *ca_path = NULL;
    char err[ATTEST_ERR_SIZE], *end;
    int c;

    memset(&pol, 0, sizeof(pol));
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
        long n;
        switch (c) {
        case 'd':
            doc_path = optarg;
            break;
        case 'c':
            ca_path = optarg;
            break;
        case 'p':
            if (add_pcr(&pol, optarg)) {
                alc_err_report(E_INVALID_ARGUMENT,
                               "--pcr %s: want N=HEX, N in 0..31, 32, 48 or 64 bytes of hex",
                               optarg);
                return E_INVALID_ARGUMENT;
            }
            break;
        case 'n':
            if ((n = parse_hex(optarg, nonce, sizeof(nonce))) < 0) {
                alc_err_report(E_INVALID_ARGUMENT, "--nonce: want at most %d bytes of hex",
                               ATTEST_FIELD_MAX);
                return E_INVALID_ARGUMENT;
            }
            pol.check_nonce = true;
            pol.nonce = nonce;
            pol.nonce_len = (size_t)n;
            break;
        case 'm':
            errno = 0;
            pol.max_age_s = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || pol.max_age_s == 0) {
                alc_err_report(E_INVALID_ARGUMENT, "--max-age: want a positive number of seconds");
                return E_INVALID_ARGUMENT;
            }
            break;
        case 'a':
            pol.accept_debug = true;
            break;
        case 't':
            if (attest_parse_time(optarg, &pol.now)) {
                alc_err_report(E_INVALID_ARGUMENT,
                               "--at %s: want a time after 1970, as Unix seconds or RFC 3339 "
                               "(2024-09-07T14:38:00Z, 2024-09-07T16:38:00+02:00)",
                               optarg);
                return E_INVALID_ARGUMENT;
            }
            break;
        default:
            return args_getopt_error(c, argv, "verify-attestation");
        }
    }
    if (optind < argc) {
        return args_usage_error(E_INVALID_ARGUMENT, "unexpected argument '%s'", argv[optind]);
    }
    if (doc_path == NULL || ca_path == NULL) {
        return args_usage_error(E_MISSING_ARGUMENT, "give --document FILE and --ca CA.pem");
    }
    size_t ca_len = 0, doc_len = 0;
    uint8_t *ca = load_ca_der(ca_path, &ca_len);
    if (ca == NULL) {
        alc_err_report(E_FILE_OPERATION, "%s: %s", ca_path,
                       errno == EBADMSG ? "not a PEM or DER certificate" : fileio_strerror(errno));
        return E_FILE_OPERATION;
    }
    uint8_t *doc = read_file(doc_path, &doc_len);
    if (doc == NULL) {
        alc_err_report(E_FILE_OPERATION, "%s: %s", doc_path, fileio_strerror(errno));
        free(ca);
        return E_FILE_OPERATION;
    }
    pol.ca_der = ca;
    pol.ca_der_len = ca_len;
    enum attest_status st = attest_verify(doc, doc_len, &pol, &res, err, sizeof(err));
    free(doc);
    free(ca);
    if (st != ATTEST_OK) {
        alc_err_report(E_ATTESTATION_INVALID, "%s%s%s",
                       st == ATTEST_MALFORMED ? "malformed document: " : "",
                       st == ATTEST_POLICY ? "policy: " : "", err);
        return E_ATTESTATION_INVALID;
    }
    print_result(&res);
    return 0;
}

const struct command cmd_verify_attestation = {
    .name = "verify-attestation",
    .run = run_verify_attestation,
    .summary = "verify an enclave's attestation document",
    .usage =
        "Usage: alcove verify-attestation --document FILE --ca CA.pem [--pcr N=HEX]...\n"
        "                                 [--nonce HEX] [--max-age SECONDS] [--at TIME]\n"
        "                                 [--accept-debug]\n\n"
        "Verifies an attestation document (the COSE_Sign1 bytes from /dev/nsm): its format,\n"
        "its certificate chain up to the pinned CA (the host's 'alcove ca show'), its ES384\n"
        "signature, then the policy: each --pcr N=HEX must match PCR N, --nonce the document's\n"
        "nonce, --max-age the age of its timestamp; documents of debug-mode enclaves (PCR0 all\n"
        "zeros) are refused unless --accept-debug. --at TIME (Unix seconds or RFC 3339, such\n"
        "as 2024-09-07T14:38:00Z) verifies as of that time instead of now: the validity of\n"
        "every certificate, the timestamp's age and clock skew. With --ca the AWS Nitro root\n"
        "(AWS_NitroEnclaves_Root-G1), it checks genuine AWS Nitro documents. Prints the\n"
        "document's fields as JSON, or fails with [ E80 ] and the reason.\n",
};
