/* nsm_bench.c: attestation inside an enclave, through libnsm and /dev/nsm: documents per second
 * (each a whole Attestation request with a 32-byte nonce: the ioctl, the virtio-nsm exit, the
 * monitor's signature) and DescribePCR requests per second (the transport alone).
 * Usage: nsm_bench SECONDS  -> "attest_per_s describe_per_s" */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "alcove/nsm.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    int fd = nsm_lib_init();
    if (fd < 0) {
        perror("nsm_lib_init");
        return 1;
    }
    static uint8_t doc[16384], nonce[32], pcr[64];
    long n = 0;
    double t0 = now_s(), t;
    do {
        nonce[0] = (uint8_t)n;
        uint32_t len = sizeof(doc);
        if (nsm_get_attestation_doc(fd, NULL, 0, nonce, sizeof(nonce), NULL, 0, doc, &len)) {
            fprintf(stderr, "nsm_bench: attestation failed (is there a host CA?)\n");
            return 1;
        }
        n++;
    } while ((t = now_s() - t0) < secs);
    double attest = (double)n / t;
    n = 0;
    t0 = now_s();
    do {
        bool lock;
        uint32_t len = sizeof(pcr);
        if (nsm_describe_pcr(fd, 16, &lock, pcr, &len))
            return 1;
        n++;
    } while ((t = now_s() - t0) < secs);
    printf("%.0f %.0f\n", attest, (double)n / t);
    nsm_lib_exit(fd);
    return 0;
}
