/* sig_timer.c: alarm, setitimer/getitimer (REAL, VIRTUAL, PROF), and blocking syscalls that a
 * signal interrupts: pause, sigsuspend, nanosleep and clock_nanosleep (EINTR and the time that
 * remains, even with SA_RESTART), sigtimedwait on a timer's signal; each timer's signal reaching a
 * loop that makes no syscall. Times are checked with
 * tolerances inside the program; only pass/fail facts are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int g_alrm, g_vt, g_prof, g_code;

static void h_alrm(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGALRM)
        g_alrm++;
    if (sig == SIGVTALRM)
        g_vt++;
    if (sig == SIGPROF)
        g_prof++;
    g_code = si->si_code;
}

static void install(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = h_alrm;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static long sc_err(long r)
{
    return r == -1 ? -errno : r;
}

static void arm_real(long first_us, long every_us)
{
    struct itimerval it = {{every_us / 1000000, every_us % 1000000},
                           {first_us / 1000000, first_us % 1000000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* Spins without a syscall until *flag is set or about 10 s of TSC ticks (at 3 GHz) pass; 1 when
 * it was set. */
static int spin_until(volatile int *flag)
{
    uint64_t end = __builtin_ia32_rdtsc() + 30000000000ull;
    while (!*flag && __builtin_ia32_rdtsc() < end)
        __asm__ volatile("pause");
    return *flag != 0;
}

#define RANGE(x, lo, hi) ((x) >= (lo) && (x) <= (hi))

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    install(SIGALRM, 0);

    /* alarm: what is left, rounded to the nearest second */
    printf("alarm(0) first: %u\n", alarm(0));
    alarm(5);
    printf("alarm(0) after alarm(5): %u\n", alarm(0));

    /* alarm + pause: pause returns EINTR after the handler */
    int64_t t0 = now_ms();
    alarm(1);
    int r = pause();
    int e = errno;
    int64_t dt = now_ms() - t0;
    printf("pause: %d %s, handler ran %d, si_code %d, after ~1 s: %d\n", r, strerror(e), g_alrm,
           g_code, RANGE(dt, 900, 3000));

    /* a periodic ITIMER_REAL and sigsuspend */
    g_alrm = 0;
    sigset_t block, old, empty;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, &old);
    t0 = now_ms();
    arm_real(20000, 20000);
    int suspends = 0;
    while (g_alrm < 5) {
        r = sigsuspend(&empty);
        suspends += r == -1 && errno == EINTR;
    }
    dt = now_ms() - t0;
    struct itimerval cur;
    getitimer(ITIMER_REAL, &cur);
    printf("periodic: 5 ticks, each sigsuspend EINTR: %d, in 80..2000 ms: %d, interval %ld us, "
           "value <= interval: %d\n",
           suspends == 5, RANGE(dt, 80, 2000), (long)cur.it_interval.tv_usec,
           cur.it_value.tv_sec == 0 && cur.it_value.tv_usec <= 20000);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("mask after sigsuspend still blocks SIGALRM: %d\n", sigismember(&now, SIGALRM));
    arm_real(0, 0);
    getitimer(ITIMER_REAL, &cur);
    printf("disarmed: %ld %ld %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec,
           (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec);
    /* a tick that came in while blocked is pending: drop it */
    signal(SIGALRM, SIG_IGN);
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* setitimer returns the old value */
    arm_real(3000000, 0);
    struct itimerval nv = {{0, 0}, {0, 0}}, ov;
    setitimer(ITIMER_REAL, &nv, &ov);
    printf("old value ~3 s: %d\n", ov.it_value.tv_sec == 2 || ov.it_value.tv_sec == 3);

    /* nanosleep interrupted: EINTR and the time left, even with SA_RESTART */
    install(SIGALRM, SA_RESTART);
    g_alrm = 0;
    arm_real(100000, 0);
    struct timespec req = {2, 0}, rem = {0, 0};
    t0 = now_ms();
    r = nanosleep(&req, &rem);
    e = errno;
    dt = now_ms() - t0;
    int64_t rem_ms = rem.tv_sec * 1000 + rem.tv_nsec / 1000000;
    printf("nanosleep: %d %s, handler %d, slept 80..1500 ms: %d, rem 500..1920 ms: %d\n", r,
           strerror(e), g_alrm, RANGE(dt, 80, 1500), RANGE(rem_ms, 500, 1920));

    /* clock_nanosleep, absolute: EINTR, rem untouched */
    g_alrm = 0;
    arm_real(100000, 0);
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 2;
    rem.tv_sec = 77;
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, &rem);
    printf("clock_nanosleep absolute: %s, handler %d, rem untouched %d\n", strerror(r), g_alrm,
           rem.tv_sec == 77);
    /* relative on CLOCK_REALTIME */
    g_alrm = 0;
    arm_real(100000, 0);
    req.tv_sec = 2;
    req.tv_nsec = 0;
    r = clock_nanosleep(CLOCK_REALTIME, 0, &req, &rem);
    rem_ms = rem.tv_sec * 1000 + rem.tv_nsec / 1000000;
    printf("clock_nanosleep realtime: %s, handler %d, rem 500..1920 ms: %d\n", strerror(r), g_alrm,
           RANGE(rem_ms, 500, 1920));
    /* an uninterrupted short sleep */
    req.tv_sec = 0;
    req.tv_nsec = 30000000;
    t0 = now_ms();
    r = nanosleep(&req, NULL);
    dt = now_ms() - t0;
    printf("nanosleep 30 ms: %d, took 29..1000 ms: %d\n", r, RANGE(dt, 29, 1000));
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec = 0;
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
    printf("clock_nanosleep to a past time: %d\n", r);

    /* pause and SA_RESTART: still EINTR */
    g_alrm = 0;
    arm_real(50000, 0);
    r = pause();
    printf("pause with SA_RESTART: %d %s handler %d\n", r, strerror(errno), g_alrm);

    /* sigtimedwait takes the timer's signal (blocked) with SI_KERNEL */
    sigprocmask(SIG_BLOCK, &block, &old);
    arm_real(50000, 0);
    siginfo_t si;
    struct timespec two = {2, 0};
    r = sigtimedwait(&block, &si, &two);
    printf("sigtimedwait for the timer: %d si_code %d\n", r, si.si_code);
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* ITIMER_VIRTUAL and ITIMER_PROF count CPU time; the loop makes syscalls */
    install(SIGVTALRM, 0);
    install(SIGPROF, 0);
    struct itimerval cpu = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_VIRTUAL, &cpu, NULL);
    setitimer(ITIMER_PROF, &cpu, NULL);
    t0 = now_ms();
    while ((!g_vt || !g_prof) && now_ms() - t0 < 5000)
        syscall(SYS_getppid);
    printf("ITIMER_VIRTUAL fired %d, ITIMER_PROF fired %d\n", g_vt, g_prof);
    getitimer(ITIMER_VIRTUAL, &cur);
    printf("virtual disarmed after firing: %d\n",
           cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);

    /* a loop that makes no syscall gets its timers' signals too (Linux's timer interrupt; in an
     * enclave, the monitor's preemption); bounded by the TSC, which needs no syscall */
    g_alrm = g_vt = g_prof = 0;
    arm_real(100000, 0);
    printf("spinning: ITIMER_REAL fired %d\n", spin_until(&g_alrm));
    setitimer(ITIMER_VIRTUAL, &cpu, NULL);
    printf("spinning: ITIMER_VIRTUAL fired %d\n", spin_until(&g_vt));
    setitimer(ITIMER_PROF, &cpu, NULL);
    printf("spinning: ITIMER_PROF fired %d\n", spin_until(&g_prof));
    /* the same after the thread slept once (it is switched out and in again before it spins) */
    g_vt = 0;
    setitimer(ITIMER_VIRTUAL, &cpu, NULL);
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
    printf("spinning after a sleep: ITIMER_VIRTUAL fired %d\n", spin_until(&g_vt));

    /* errors */
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    printf("setitimer(3) = %ld\n", sc_err(syscall(SYS_setitimer, 3, &nv, NULL)));
    printf("setitimer(-1) = %ld\n", sc_err(syscall(SYS_setitimer, -1, &nv, NULL)));
    printf("setitimer usec 1e6 = %ld\n", sc_err(syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL)));
    bad.it_value.tv_usec = -1;
    printf("setitimer usec -1 = %ld\n", sc_err(syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL)));
    bad.it_value.tv_usec = 0;
    bad.it_interval.tv_usec = 1000000;
    bad.it_value.tv_sec = 1;
    printf("setitimer interval usec 1e6 = %ld\n",
           sc_err(syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL)));
    printf("setitimer bad new = %ld\n",
           sc_err(syscall(SYS_setitimer, ITIMER_REAL, (void *)8, NULL)));
    printf("setitimer bad old = %ld\n",
           sc_err(syscall(SYS_setitimer, ITIMER_REAL, &nv, (void *)8)));
    printf("setitimer NULL new = %ld\n", sc_err(syscall(SYS_setitimer, ITIMER_REAL, NULL, &ov)));
    printf("getitimer(3) = %ld\n", sc_err(syscall(SYS_getitimer, 3, &cur)));
    printf("getitimer bad = %ld\n", sc_err(syscall(SYS_getitimer, ITIMER_REAL, (void *)8)));
    struct timespec badts = {0, 1000000000};
    printf("nanosleep nsec 1e9 = %ld\n", sc_err(syscall(SYS_nanosleep, &badts, NULL)));
    badts.tv_sec = -1;
    badts.tv_nsec = 0;
    printf("nanosleep sec -1 = %ld\n", sc_err(syscall(SYS_nanosleep, &badts, NULL)));
    printf("nanosleep bad = %ld\n", sc_err(syscall(SYS_nanosleep, (void *)8, NULL)));
    struct timespec z = {0, 0};
    printf("clock_nanosleep(THREAD_CPUTIME) = %ld\n",
           sc_err(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &z, NULL)));
    printf("clock_nanosleep(99) = %ld\n", sc_err(syscall(SYS_clock_nanosleep, 99, 0, &z, NULL)));
    printf("clock_nanosleep(MONOTONIC_RAW) = %ld\n",
           sc_err(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &z, NULL)));
    printf("clock_nanosleep(MONOTONIC_COARSE) = %ld\n",
           sc_err(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_COARSE, 0, &z, NULL)));
    printf("clock_nanosleep(BOOTTIME, 0 s) = %ld\n",
           sc_err(syscall(SYS_clock_nanosleep, CLOCK_BOOTTIME, 0, &z, NULL)));
    printf("clock_nanosleep(PROCESS_CPUTIME, 0 s) = %ld\n",
           sc_err(syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &z, NULL)));
    printf("done\n");
    return 0;
}
