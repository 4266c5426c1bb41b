/* clock_loop.c: the cost of reading the clock: N calls of clock_gettime(CLOCK_MONOTONIC), ns per
 * call, through the C library (which uses the vDSO where there is one: natively Linux's, in an
 * enclave alcove's). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    struct timespec a, b, t;
    long long sum = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        sum += t.tv_nsec;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
    printf("%.1f\n", sum == 42 ? 0.0 : ns);
    return 0;
}
