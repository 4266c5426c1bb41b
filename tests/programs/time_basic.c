/* time_basic.c: clocks (every clock id, resolutions, CPU time that advances with work and not
 * with sleep), getrusage, times, sysinfo, resource limits, scheduling (affinity, yield,
 * priority) and uname, with their error cases. Prints only facts that hold on Linux and in an
 * enclave alike. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c) printf("%-64s %s\n", #c, (c) ? "ok" : "FAILED")

static long sc_err(long r)
{
    return r == -1 ? -errno : r;
}

static int64_t ns_of(clockid_t c)
{
    struct timespec t;
    if (syscall(SYS_clock_gettime, c, &t))
        return -1;
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static volatile uint64_t g_sink;

static void spin_ms(int ms)
{
    int64_t end = ns_of(CLOCK_MONOTONIC) + (int64_t)ms * 1000000;
    while (ns_of(CLOCK_MONOTONIC) < end)
        for (int i = 0; i < 10000; i++)
            g_sink += (uint64_t)i * 7;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* every clock id */
    clockid_t ids[] = {CLOCK_REALTIME,          CLOCK_MONOTONIC,     CLOCK_PROCESS_CPUTIME_ID,
                       CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
                       CLOCK_MONOTONIC_COARSE,  CLOCK_BOOTTIME,      11 /* TAI */};
    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct timespec t, res;
        long r = sc_err(syscall(SYS_clock_gettime, ids[i], &t));
        long rr = sc_err(syscall(SYS_clock_getres, ids[i], &res));
        int res_ok = rr == 0 && res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10000000;
        printf("clock %d: gettime %ld getres %ld res in (0, 10 ms]: %d 1 ns: %d\n", ids[i], r, rr,
               res_ok, res.tv_nsec == 1);
    }
    struct timespec t;
    printf("clock 10 = %ld, clock 12 = %ld, clock 99 = %ld, clock -1 = %ld\n",
           sc_err(syscall(SYS_clock_gettime, 10, &t)), sc_err(syscall(SYS_clock_gettime, 12, &t)),
           sc_err(syscall(SYS_clock_gettime, 99, &t)), sc_err(syscall(SYS_clock_gettime, -1, &t)));
    printf("clock_gettime bad pointer = %ld\n",
           sc_err(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)8)));
    printf("clock_getres NULL = %ld, bad pointer = %ld, clock 99 = %ld\n",
           sc_err(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL)),
           sc_err(syscall(SYS_clock_getres, CLOCK_MONOTONIC, (void *)8)),
           sc_err(syscall(SYS_clock_getres, 99, &t)));

    /* monotonic never goes back; realtime agrees with time() and gettimeofday */
    int64_t prev = ns_of(CLOCK_MONOTONIC), back = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t n = ns_of(CLOCK_MONOTONIC);
        back += n < prev;
        prev = n;
    }
    CHECK(back == 0);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t rt = ns_of(CLOCK_REALTIME) / 1000000000;
    CHECK(rt - tv.tv_sec >= 0 && rt - tv.tv_sec <= 1);
    CHECK(rt - time(NULL) >= -1 && rt - time(NULL) <= 1);
    CHECK(rt > 1700000000);
    CHECK(ns_of(CLOCK_BOOTTIME) >= ns_of(CLOCK_MONOTONIC) - 1000000);

    /* CPU clocks: advance with work, barely with sleep */
    clockid_t cid;
    CHECK(clock_getcpuclockid(0, &cid) == 0);
    int64_t c0 = ns_of(cid), p0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    spin_ms(200);
    int64_t c1 = ns_of(cid), p1 = ns_of(CLOCK_PROCESS_CPUTIME_ID),
            th1 = ns_of(CLOCK_THREAD_CPUTIME_ID);
    printf("CPU time of 200 ms of work >= 60 ms: %d %d\n", c1 - c0 >= 60000000,
           p1 - p0 >= 60000000);
    struct timespec nap = {0, 300000000};
    nanosleep(&nap, NULL);
    int64_t p2 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    printf("CPU time of a 300 ms sleep < 100 ms: %d\n", p2 - p1 < 100000000);
    CHECK(th1 > 0 && th1 <= p2);
    int64_t wall = ns_of(CLOCK_MONOTONIC);
    (void)wall;

    /* getrusage and times */
    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
    int64_t ru_us = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    printf("rusage self: cpu >= 60 ms %d, <= process clock %d, maxrss > 0 %d\n", ru_us >= 60000,
           ru_us <= p2 / 1000 + 20000, ru.ru_maxrss > 0);
    CHECK(getrusage(RUSAGE_THREAD, &ru) == 0);
    CHECK(getrusage(RUSAGE_CHILDREN, &ru) == 0 && ru.ru_utime.tv_sec == 0 &&
          ru.ru_utime.tv_usec == 0 && ru.ru_maxrss == 0);
    printf("getrusage(5) = %ld, bad pointer = %ld\n", sc_err(syscall(SYS_getrusage, 5, &ru)),
           sc_err(syscall(SYS_getrusage, RUSAGE_SELF, (void *)8)));
    struct tms tm;
    clock_t ticks = times(&tm);
    long hz = sysconf(_SC_CLK_TCK);
    printf("times: ticks > 0 %d, utime+stime >= 6 ticks %d, children 0 %d, CLK_TCK %ld\n",
           ticks > 0, tm.tms_utime + tm.tms_stime >= 6, tm.tms_cutime == 0 && tm.tms_cstime == 0,
           hz);
    printf("times(NULL) > 0: %d, bad pointer = %ld\n", syscall(SYS_times, NULL) > 0,
           sc_err(syscall(SYS_times, (void *)8)));

    /* sysinfo */
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0);
    CHECK(si.totalram > 0 && si.freeram <= si.totalram && si.mem_unit >= 1);
    CHECK(si.procs >= 1 && si.uptime >= 1);
    printf("sysinfo bad pointer = %ld\n", sc_err(syscall(SYS_sysinfo, (void *)8)));

    /* resource limits */
    int sane = 1;
    for (int r = 0; r < 16; r++) {
        struct rlimit rl;
        if (getrlimit(r, &rl) || (rl.rlim_cur > rl.rlim_max))
            sane = 0;
    }
    CHECK(sane);
    struct rlimit nf, st, as;
    getrlimit(RLIMIT_NOFILE, &nf);
    getrlimit(RLIMIT_STACK, &st);
    getrlimit(RLIMIT_AS, &as);
    CHECK(nf.rlim_cur >= 64 && nf.rlim_max >= nf.rlim_cur);
    CHECK(st.rlim_cur >= 65536);
    struct rlimit lower = {256, nf.rlim_max}, back_rl;
    printf("setrlimit NOFILE 256: %d\n", setrlimit(RLIMIT_NOFILE, &lower));
    getrlimit(RLIMIT_NOFILE, &back_rl);
    printf("read back: %lu, max unchanged %d\n", (unsigned long)back_rl.rlim_cur,
           back_rl.rlim_max == nf.rlim_max);
    struct rlimit old_rl;
    long pr = sc_err(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &nf, &old_rl));
    printf("prlimit64 set+get: %ld, old cur %lu\n", pr, (unsigned long)old_rl.rlim_cur);
    struct rlimit inv = {100, 50};
    printf("cur > max = %ld\n", sc_err(syscall(SYS_setrlimit, RLIMIT_NOFILE, &inv)));
    printf("resource 16 = %ld, 99 = %ld\n", sc_err(syscall(SYS_getrlimit, 16, &old_rl)),
           sc_err(syscall(SYS_getrlimit, 99, &old_rl)));
    printf("getrlimit bad = %ld, setrlimit bad = %ld\n",
           sc_err(syscall(SYS_getrlimit, RLIMIT_NOFILE, (void *)8)),
           sc_err(syscall(SYS_setrlimit, RLIMIT_NOFILE, (void *)8)));
    printf("prlimit64 nobody = %ld, own pid = %ld\n",
           sc_err(syscall(SYS_prlimit64, 0x3ffffff0, RLIMIT_NOFILE, NULL, &old_rl)),
           sc_err(syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &old_rl)));
    struct rlimit core = {0, 0};
    printf("lower a hard limit (CORE): %d\n", setrlimit(RLIMIT_CORE, &core));

    /* scheduling */
    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 1);
    long n = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
    CHECK(n > 0 && n <= (long)sizeof(set) && n % 8 == 0);
    printf("affinity size 4 = %ld, size 0 = %ld, bad pointer = %ld, nobody = %ld\n",
           sc_err(syscall(SYS_sched_getaffinity, 0, 4, &set)),
           sc_err(syscall(SYS_sched_getaffinity, 0, 0, &set)),
           sc_err(syscall(SYS_sched_getaffinity, 0, sizeof(set), (void *)8)),
           sc_err(syscall(SYS_sched_getaffinity, 0x3ffffff0, sizeof(set), &set)));
    CHECK(sched_getaffinity(getpid(), sizeof(set), &set) == 0);
    printf("sched_yield = %d\n", sched_yield());

    errno = 0;
    int p = getpriority(PRIO_PROCESS, 0);
    printf("getpriority ok: %d\n", errno == 0 && p >= -20 && p <= 19);
    int want = p + 3 > 19 ? 19 : p + 3;
    printf("setpriority +3: %d\n", setpriority(PRIO_PROCESS, 0, want));
    printf("read back: %d\n", getpriority(PRIO_PROCESS, 0) == want);
    int sp = setpriority(PRIO_PROCESS, getpid(), 100);
    printf("setpriority 100 clamps to 19: %d %d\n", sp, getpriority(PRIO_PROCESS, 0) == 19);
    printf("raw getpriority = 20 - nice: %d\n", syscall(SYS_getpriority, PRIO_PROCESS, 0) == 1);
    printf("back to the start (root may): %d\n", setpriority(PRIO_PROCESS, 0, p));
    printf("getpriority(7) = %ld, nobody = %ld, pgrp 0 ok = %d\n",
           sc_err(syscall(SYS_getpriority, 7, 0)),
           sc_err(syscall(SYS_getpriority, PRIO_PROCESS, 0x3ffffff0)),
           syscall(SYS_getpriority, PRIO_PGRP, 0) > 0);
    printf("setpriority(7) = %ld, nobody = %ld\n", sc_err(syscall(SYS_setpriority, 7, 0, 0)),
           sc_err(syscall(SYS_setpriority, PRIO_PROCESS, 0x3ffffff0, 0)));

    /* uname */
    struct utsname u;
    CHECK(uname(&u) == 0);
    printf("sysname %s machine %s release starts with a digit %d\n", u.sysname, u.machine,
           u.release[0] >= '0' && u.release[0] <= '9');
    printf("uname bad pointer = %ld\n", sc_err(syscall(SYS_uname, (void *)8)));
    printf("done\n");
    return 0;
}
