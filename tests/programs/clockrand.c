/* clockrand.c: clocks and randomness behave plausibly. Prints only PASS/FAIL lines, so the
 * output is the same natively and in an enclave. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

#include "show.h"

static int64_t ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(void)
{
    struct timespec ts;
    check(clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 1700000000 &&
              ts.tv_sec < 4102444800,
          "realtime is a date between 2023 and 2100");
    int64_t prev = ns(CLOCK_MONOTONIC), bad = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t t = ns(CLOCK_MONOTONIC);
        bad += t < prev;
        prev = t;
    }
    check(bad == 0, "monotonic never goes back");
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t rt = ns(CLOCK_REALTIME);
    int64_t diff = rt - ((int64_t)tv.tv_sec * 1000000000 + tv.tv_usec * 1000);
    check(diff >= 0 && diff < 1000000000, "gettimeofday agrees with clock_gettime");
    time_t t0 = time(NULL);
    check(t0 - rt / 1000000000 <= 1 && rt / 1000000000 - t0 <= 1, "time() agrees");
    int64_t s0 = ns(CLOCK_MONOTONIC);
    struct timespec req = {0, 20 * 1000 * 1000};
    check(nanosleep(&req, NULL) == 0, "nanosleep succeeds");
    int64_t slept = ns(CLOCK_MONOTONIC) - s0;
    check(slept >= 20000000 && slept < 2000000000, "nanosleep(20ms) sleeps 20ms to 2s");
    check(clock_getres(CLOCK_MONOTONIC, &ts) == 0 && ts.tv_sec == 0 && ts.tv_nsec > 0,
          "clock_getres");
    errno = 0;
    check(clock_gettime((clockid_t)1234, &ts) == -1 && errno == EINVAL, "bad clock id is EINVAL");
    check(ns(CLOCK_BOOTTIME) > 0 && ns(CLOCK_PROCESS_CPUTIME_ID) >= 0, "boottime and cputime");

    unsigned char a[64], b[64], zero[64] = {0};
    check(getrandom(a, sizeof(a), 0) == sizeof(a) && getrandom(b, sizeof(b), 0) == sizeof(b),
          "getrandom fills the buffer");
    check(memcmp(a, b, 64) != 0 && memcmp(a, zero, 64) != 0, "two getrandom calls differ");
    errno = 0;
    check(getrandom(a, 8, 0x80) == -1 && errno == EINVAL, "getrandom with bad flags is EINVAL");
    int counts[256] = {0}, maxc = 0;
    static unsigned char big[1 << 16];
    getrandom(big, sizeof(big), 0);
    for (size_t i = 0; i < sizeof(big); i++)
        counts[big[i]]++;
    for (int i = 0; i < 256; i++)
        maxc = counts[i] > maxc ? counts[i] : maxc;
    check(maxc < 400, "getrandom bytes look uniform");
    return failures ? 1 : 0;
}
