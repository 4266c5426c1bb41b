/* attest_bench.c: attestation throughput on the host: documents generated per second (whole
 * Attestation requests through nsm_handle: CBOR decode, payload, ES384 signature, response) and
 * documents verified per second (attest_verify: decode, X.509 chain to the pinned CA, ES384
 * verification, policy). Each figure is the median of RUNS runs of about a second each.
 * Usage: attest_bench [RUNS]   (default 5) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/ca.h"
#include "attest/nsm.h"
#include "attest/verify.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    static uint8_t resp[NSM_RESPONSE_MAX_SIZE];
    static const uint8_t req[] = "\xa1\x6b"
                                 "Attestation"
                                 "\xa3\x69"
                                 "user_data"
                                 "\x45"
                                 "hello"
                                 "\x65"
                                 "nonce"
                                 "\x48"
                                 "12345678"
                                 "\x6a"
                                 "public_key"
                                 "\xf6";
    static struct attest_policy pol;
    static struct attest_result res;
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    double gen[64], ver[64];
    char why[ATTEST_ERR_SIZE];
    uint8_t pcr[48], *der;
    size_t der_len;
    struct attest_signer signer;
    struct nsm nsm;

    if (runs < 1 || runs > 64)
        runs = 5;
    struct attest_ca *ca = ca_generate("bench.alcove-enclaves", time(NULL), why, sizeof(why));
    if (ca == NULL || ca_cert_der(ca, &der, &der_len) ||
        ca_issue_signer(ca, "i-bench-enc1", time(NULL), &signer, why, sizeof(why))) {
        fprintf(stderr, "attest_bench: %s\n", why);
        return 1;
    }
    memset(pcr, 0x42, sizeof(pcr));
    nsm_init(&nsm, pcr, pcr, pcr, NULL, false, "i-bench-enc1", &signer);
    pol.ca_der = der;
    pol.ca_der_len = der_len;
    pol.check_nonce = true;
    pol.nonce = (const uint8_t *)"12345678";
    pol.nonce_len = 8;

    size_t n = 0;
    for (int r = 0; r < runs; r++) {
        long count = 0;
        double t0 = now_s(), t;
        do {
            n = nsm_handle(&nsm, req, sizeof(req) - 1, resp, sizeof(resp));
            count++;
        } while ((t = now_s()) - t0 < 1.0);
        gen[r] = (double)count / (t - t0);
    }
    if (n < 27 || resp[0] != 0xa1 || resp[2] != 'A') {
        fprintf(stderr, "attest_bench: the NSM did not answer with a document\n");
        return 1;
    }
    const uint8_t *doc = resp + 26;
    size_t doc_len = n - 26;
    for (int r = 0; r < runs; r++) {
        long count = 0;
        double t0 = now_s(), t;
        do {
            if (attest_verify(doc, doc_len, &pol, &res, why, sizeof(why)) != ATTEST_OK) {
                fprintf(stderr, "attest_bench: verification failed: %s\n", why);
                return 1;
            }
            count++;
        } while ((t = now_s()) - t0 < 1.0);
        ver[r] = (double)count / (t - t0);
    }
    printf("attestation on the host (median of %d runs of 1 s, one thread)\n", runs);
    printf("  document size            %zu bytes\n", doc_len);
    printf("  documents generated/s    %.0f\n", median(gen, runs));
    printf("  documents verified/s     %.0f\n", median(ver, runs));
    attest_signer_free(&signer);
    ca_free(ca);
    free(der);
    return 0;
}
