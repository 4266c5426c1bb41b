/* vdso_clock.c: the vDSO (AT_SYSINFO_EHDR), as a program sees it.
 *   check    it is there: an ELF image the auxiliary vector names, "[vdso]" in /proc/self/maps;
 *            the C library's clock_gettime, gettimeofday, time and clock_getres (through it)
 *            agree with the system calls: ordered readings on every clock it serves, the same
 *            resolutions, CPU-time clocks and a bad clock id (which it hands to the kernel)
 *   loop N   N calls of clock_gettime(CLOCK_MONOTONIC) and N of gettimeofday, for counting how
 *            many entered the kernel (--log-level debug's "syscall patching: ..." line)
 * Prints facts that hold on Linux; a difference fails the test. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long ns_of(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000ll + t->tv_nsec;
}

static void check_clock(const char *name, clockid_t clk)
{
    struct timespec a, b, c, r1, r2;
    int e1 = clock_gettime(clk, &a);
    int e2 = (int)syscall(SYS_clock_gettime, clk, &b);
    int e3 = clock_gettime(clk, &c);
    clock_getres(clk, &r1);
    syscall(SYS_clock_getres, clk, &r2);
    printf("%s: %d %d %d, ordered %d, same resolution %d\n", name, e1, e2, e3,
           ns_of(&a) <= ns_of(&b) && ns_of(&b) <= ns_of(&c),
           r1.tv_sec == r2.tv_sec && r1.tv_nsec == r2.tv_nsec);
}

static void check(void)
{
    const unsigned char *ehdr = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    printf("AT_SYSINFO_EHDR names an ELF image: %d\n", ehdr && memcmp(ehdr, "\177ELF", 4) == 0);
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int listed = 0;
    while (f && fgets(line, sizeof(line), f))
        listed |= strstr(line, "[vdso]") != NULL &&
                  strtoull(line, NULL, 16) == (unsigned long long)(uintptr_t)ehdr;
    if (f)
        fclose(f);
    printf("[vdso] in /proc/self/maps at that address: %d\n", listed);
    check_clock("CLOCK_REALTIME", CLOCK_REALTIME);
    check_clock("CLOCK_MONOTONIC", CLOCK_MONOTONIC);
    check_clock("CLOCK_MONOTONIC_RAW", CLOCK_MONOTONIC_RAW);
    check_clock("CLOCK_BOOTTIME", CLOCK_BOOTTIME);
    struct timespec t;
    printf("CLOCK_REALTIME_COARSE: %d, CLOCK_MONOTONIC_COARSE: %d\n",
           clock_gettime(CLOCK_REALTIME_COARSE, &t), clock_gettime(CLOCK_MONOTONIC_COARSE, &t));
    struct timespec p1, p2;
    volatile unsigned long spin = 0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p1);
    for (unsigned long i = 0; i < 20000000; i++)
        spin += i;
    int e = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p2);
    printf("CLOCK_PROCESS_CPUTIME_ID: %d, advances %d\n", e, ns_of(&p2) > ns_of(&p1));
    printf("CLOCK_THREAD_CPUTIME_ID: %d\n", clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t));
    errno = 0;
    int r = clock_gettime((clockid_t)99, &t);
    printf("clock 99: %d %s\n", r, strerror(errno));
    errno = 0;
    r = clock_getres((clockid_t)99, &t);
    printf("clock_getres 99: %d %s\n", r, strerror(errno));
    struct timespec rt;
    struct timeval tv;
    struct timezone tz = {123, 456};
    clock_gettime(CLOCK_REALTIME, &rt);
    int g = gettimeofday(&tv, &tz);
    time_t s = time(NULL), s2;
    time(&s2);
    printf("gettimeofday: %d, within a second of CLOCK_REALTIME %d, time() %d, time(&s) %d\n", g,
           llabs((long long)tv.tv_sec - (long long)rt.tv_sec) <= 1,
           llabs((long long)s - (long long)rt.tv_sec) <= 1, s2 >= s);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "loop") == 0) {
        long n = atol(argv[2]);
        struct timespec t;
        struct timeval tv;
        long long sum = 0;
        for (long i = 0; i < n; i++) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            gettimeofday(&tv, NULL);
            sum += t.tv_nsec + tv.tv_usec;
        }
        printf("loop %ld done %d\n", n, sum != 0);
        return 0;
    }
    check();
    return 0;
}
