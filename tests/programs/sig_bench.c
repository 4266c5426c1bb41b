/* sig_bench.c [N] [--time]: N signal round trips (kill to itself through the C library, the
 * handler, rt_sigreturn back through the library's restorer). Prints how many handlers ran;
 * with --time also the median of 5 runs in ns per round trip (not deterministic: for bench). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile long g_count;

static void handler(int sig)
{
    (void)sig;
    g_count++;
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int timed = argc > 2 && !strcmp(argv[2], "--time");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pid_t me = getpid();
    long long runs[5];
    int nruns = timed ? 5 : 1;
    for (int r = 0; r < nruns; r++) {
        long long t0 = now_ns();
        for (long i = 0; i < n; i++)
            kill(me, SIGUSR1);
        runs[r] = (now_ns() - t0) / (n ? n : 1);
    }
    printf("handlers run: %ld of %ld\n", g_count, n * nruns);
    if (timed) {
        qsort(runs, 5, sizeof(runs[0]), cmp);
        printf("ns per round trip (median of 5): %lld\n", runs[2]);
    }
    return 0;
}
